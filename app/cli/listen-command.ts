import fs from 'node:fs';
import path from 'node:path';
import { readRuntimeInfo } from '../discovery';
import type { Io } from './commands';
import { listen } from './listen';

// `beep listen`: where its state lives, pairing with the daemon on this PC when only a code is
// given, signals, and the exit code (4 once the device is revoked).

export interface ListenCommandOptions {
  url?: string;
  code?: string;
  state?: string;
  name: string;
  json?: boolean;
  history?: boolean;
}

/** Runs the terminal phone until it is revoked (exit 4) or stopped by a signal (exit 0). */
export async function listenCommand(dataDir: string, options: ListenCommandOptions, io: Io): Promise<number> {
  const stateFile = path.resolve(options.state ?? path.join(dataDir, 'listen.json'));
  let url = options.url;
  let fingerprint: string | undefined;
  if (!url && options.code) {
    const runtime = readRuntimeInfo(dataDir);
    if (!runtime) throw new Error('no --url given and no local daemon found to pair with');
    url = `https://localhost:${runtime.gatewayPort}`;
    fingerprint = runtime.caFingerprint;
  }
  const session = await listen({ stateFile, url, code: options.code, fingerprint, name: options.name, json: Boolean(options.json), history: Boolean(options.history), ...io });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      session.stop();
      process.exit(0);
    });
  }
  await session.done;
  fs.rmSync(stateFile, { force: true });
  return 4;
}
