import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { RunningDaemon } from './daemon';

// `beep listen` as a child process: its JSON lines parsed, its stderr kept, waited on by polling.

const MAIN = path.resolve(__dirname, '..', '..', 'dist', 'app', 'main.js');

/** Listener processes still running, killed after the tests whatever their outcome. */
const running = new Set<ChildProcess>();

export class Listener {
  readonly proc: ChildProcess;
  readonly lines: any[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(daemon: RunningDaemon, stateFile: string, url?: string, extra: string[] = []) {
    this.proc = spawn(
      process.execPath,
      [MAIN, '--data-dir', daemon.dataDir, 'listen', '--json', '--state', stateFile, '--name', 'cli test', ...(url ? ['--url', url] : []), ...extra],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    running.add(this.proc);
    this.proc.once('exit', () => running.delete(this.proc));
    let buffer = '';
    this.proc.stdout!.on('data', (d: Buffer) => {
      buffer += d.toString();
      const parts = buffer.split('\n');
      buffer = parts.pop()!;
      for (const line of parts) if (line.trim()) this.lines.push(JSON.parse(line));
    });
    this.proc.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.proc.once('exit', (code) => resolve(code)));
  }

  async waitFor(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; stderr:\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  titles(): string[] {
    return this.lines.filter((l) => l.title).map((l) => l.title);
  }
}


/** Kills every listener still running (afterAll, whatever the tests' outcome). */
export function killListeners(): void {
  for (const proc of running) proc.kill('SIGKILL');
}
