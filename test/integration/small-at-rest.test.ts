import fs from 'node:fs';
import path from 'node:path';
import { startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon';

// Small at rest: a daemon restarted on its data directory holds no read worker thread once the
// start's own queries are done, and none of the modules only some commands need (node-forge,
// qrcode, bcrypt, dbus-next without a session bus, the `beep listen` client, re2js without keyword
// rules, fast-xml-parser without a Windows capture); each is loaded
// when first used. A preload (NODE_OPTIONS=--require) reports the daemon's modules and live
// worker threads when sent SIGUSR2.

const PRELOAD = `
const fs = require('fs');
const wt = require('worker_threads');
if (wt.isMainThread) {
  let alive = 0;
  let started = 0;
  const Base = wt.Worker;
  wt.Worker = class extends Base { constructor(...a) { super(...a); alive++; started++; this.once('exit', () => alive--); } };
  process.on('SIGUSR2', () => {
    const modules = Object.keys(require.cache);
    fs.writeFileSync(process.env.BEEP_TEST_DUMP + '.tmp', JSON.stringify({ modules, workers: alive, started }));
    fs.renameSync(process.env.BEEP_TEST_DUMP + '.tmp', process.env.BEEP_TEST_DUMP);
  });
}
`;

const LAZY = ['node-forge', 'qrcode', 'bcrypt', 'dbus-next', 'socket.io-client', 're2js', 'fast-xml-parser'];

async function dump(daemon: RunningDaemon, file: string): Promise<{ packages: Set<string>; workers: number; started: number }> {
  fs.rmSync(file, { force: true });
  daemon.proc.kill('SIGUSR2');
  for (let i = 0; i < 200 && !fs.existsSync(file); i++) await new Promise((r) => setTimeout(r, 25));
  const { modules, workers, started } = JSON.parse(fs.readFileSync(file, 'utf8')) as { modules: string[]; workers: number; started: number };
  const packages = new Set(modules.filter((m) => m.includes('node_modules')).map((m) => m.split('node_modules/').pop()!.split('/')[0]!));
  return { packages, workers, started };
}

test('restarted and idle: no read worker and none of the lazy modules; a pairing code loads qrcode, a history query starts a worker', async () => {
  const dir = tempDir();
  const preload = path.join(dir, 'preload.js');
  fs.writeFileSync(preload, PRELOAD);
  const file = path.join(dir, 'dump.json');
  const env = { NODE_OPTIONS: `--require ${preload}`, BEEP_TEST_DUMP: file };
  const first = await startDaemon({ dataDir: dir, env, config: { store: { readPoolIdleSec: 1 } } });
  try {
    // The first start issues the CA and server certificate with Beep's own DER writer: no forge.
    expect((await dump(first, file)).packages.has('node-forge')).toBe(false);
  } finally {
    await first.stop();
  }
  const daemon = await first.restart();
  try {
    // The start's audit check reads on the main connection: once a verification is answered,
    // no read worker has been started at all.
    expect((await daemon.admin('GET', '/api/v1/audit/verify')).status).toBe(200);
    let state = await dump(daemon, file);
    expect(state.started).toBe(0);
    expect(state.workers).toBe(0);
    expect(LAZY.filter((p) => state.packages.has(p))).toEqual([]);
    expect(state.packages.has('express')).toBe(true); // the dump does see what is loaded

    expect((await daemon.admin('POST', '/api/v1/pairings')).status).toBe(201);
    expect((await daemon.admin('GET', '/api/v1/notifications?limit=5')).status).toBe(200);
    state = await dump(daemon, file);
    expect(state.packages.has('qrcode')).toBe(true);
    expect(state.workers).toBeGreaterThan(0);
  } finally {
    await daemon.stop();
  }
});
