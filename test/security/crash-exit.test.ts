import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { systemdUnit } from '../../app/service/unit-files';
import { startDaemon, tempDir } from '../helpers/daemon';

// Issue 11, "Crashes": an uncaught exception (or unhandled rejection) is logged and ends the
// process with a non-zero code, so systemd's Restart=on-failure and launchd's KeepAlive
// (SuccessfulExit false) restart it. The crash is injected through `diagnostics.crashInjection`
// (off by default), on the admin listener with the admin token.

test.each(['exception', 'rejection'])('an injected uncaught %s logs and exits non-zero', async (kind) => {
  const daemon = await startDaemon({ config: { diagnostics: { crashInjection: true } } });
  try {
    const answer = await daemon.admin('POST', '/api/v1/diagnostics/crash', { kind });
    expect(answer.status).toBe(202);
    const code = await daemon.exited;
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(daemon.logs()).toMatch(kind === 'exception' ? /uncaught exception/ : /unhandled rejection/);
    expect(daemon.logs()).toMatch(/injected crash/);
  } finally {
    await daemon.kill();
  }
});

test('without diagnostics.crashInjection there is no crash route', async () => {
  const daemon = await startDaemon();
  try {
    expect((await daemon.admin('POST', '/api/v1/diagnostics/crash', { kind: 'exception' })).status).toBe(404);
    expect(daemon.proc.exitCode).toBeNull();
  } finally {
    expect(await daemon.stop()).toBe(0);
  }
});

test('the systemd unit restarts a non-zero exit and still passes systemd-analyze verify', () => {
  const dir = tempDir('beep-unit-');
  const unit = systemdUnit({ node: process.execPath, main: path.resolve('dist/app/main.js'), dataDir: dir, logFile: path.join(dir, 'x.log') });
  expect(unit).toMatch(/^Restart=on-failure$/m);
  const file = path.join(dir, 'beep.service');
  fs.writeFileSync(file, unit);
  const verify = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
  expect(verify.error).toBeUndefined();
  expect(verify.stderr.trim()).toBe('');
  expect(verify.status).toBe(0);
});
