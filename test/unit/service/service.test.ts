import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { install, status, uninstall, unitPath, type Runner, type ServiceEnv } from '../../../app/service/service-manager';
import { launchdPlist, systemdUnit } from '../../../app/service/unit-files';

// `beep service`: the systemd unit passes `systemd-analyze verify` (Debian's systemd is
// installed in CI); the launchd plist's content is checked here, since no macOS runs these
// tests; install/uninstall/status drive a recorded fake systemctl/launchctl, so a developer's
// real user services are never touched.

const spec = (dir: string) => ({
  node: process.execPath,
  main: path.resolve('dist/app/main.js'),
  dataDir: path.join(dir, 'my data'),
  logFile: path.join(dir, 'my data', 'logs', 'service.log'),
});

function fakeEnv(platform: NodeJS.Platform, fail = false): ServiceEnv & { calls: string[] } {
  const calls: string[] = [];
  const run: Runner = (command, args) => {
    calls.push([command, ...args].join(' '));
    return fail ? { status: 1, stdout: '', stderr: 'Failed to connect to bus' } : { status: 0, stdout: 'active\n', stderr: '' };
  };
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'beep-service-'));
  return { platform, home, uid: 501, run, calls };
}

describe('systemd user unit', () => {
  test('restarts on failure, starts at login, stops with SIGTERM; systemd-analyze verify is silent', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beep-unit-'));
    const unit = systemdUnit(spec(dir));
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^WantedBy=default\.target$/m);
    expect(unit).toMatch(/^KillSignal=SIGTERM$/m);
    expect(unit).toContain(`"${path.join(dir, 'my data')}"`); // a path with a space stays one argument
    const file = path.join(dir, 'beep.service');
    fs.writeFileSync(file, unit);
    const verify = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
    expect(verify.error).toBeUndefined();
    expect(verify.stderr.trim()).toBe('');
    expect(verify.status).toBe(0);
  });

  test('install writes the unit and enables it; uninstall disables and removes it', () => {
    const env = fakeEnv('linux');
    const result = install(env, spec(env.home));
    expect(result.code).toBe(0);
    expect(unitPath(env)).toBe(path.join(env.home, '.config', 'systemd', 'user', 'beep.service'));
    expect(fs.readFileSync(unitPath(env), 'utf8')).toContain('Restart=on-failure');
    expect(env.calls).toEqual(['systemctl --user daemon-reload', 'systemctl --user enable --now beep.service']);
    expect(status(env)).toEqual({ code: 0, lines: [`installed: ${unitPath(env)}`, 'state: active'] });
    expect(uninstall(env).code).toBe(0);
    expect(fs.existsSync(unitPath(env))).toBe(false);
    expect(env.calls.slice(-2)).toEqual(['systemctl --user disable --now beep.service', 'systemctl --user daemon-reload']);
    expect(status(env).code).toBe(3);
  });

  test('without a user session bus: the unit is written and the next step is named', () => {
    const env = fakeEnv('linux', true);
    const result = install(env, spec(env.home));
    expect(result.code).toBe(1);
    expect(fs.existsSync(unitPath(env))).toBe(true);
    expect(result.lines.join('\n')).toMatch(/Failed to connect to bus[\s\S]*systemctl --user enable --now beep\.service/);
  });
});

describe('launchd agent', () => {
  test('plist: label, arguments (escaped), RunAtLoad, KeepAlive unless clean exit, logs', () => {
    const plist = launchdPlist({ node: '/usr/local/bin/node', main: '/opt/beep & co/main.js', dataDir: '/Users/a/beep', logFile: '/Users/a/beep/logs/service.log' });
    expect(plist).toMatch(/<key>Label<\/key>\s*<string>dev\.beep\.daemon<\/string>/);
    expect(plist).toMatch(
      /<key>ProgramArguments<\/key>\s*<array>\s*<string>\/usr\/local\/bin\/node<\/string>\s*<string>\/opt\/beep &amp; co\/main\.js<\/string>\s*<string>--data-dir<\/string>\s*<string>\/Users\/a\/beep<\/string>\s*<string>start<\/string>\s*<\/array>/,
    );
    expect(plist).toMatch(/<key>RunAtLoad<\/key>\s*<true\/>/);
    expect(plist).toMatch(/<key>KeepAlive<\/key>\s*<dict>\s*<key>SuccessfulExit<\/key>\s*<false\/>/);
    expect(plist).toMatch(/<key>StandardErrorPath<\/key>\s*<string>\/Users\/a\/beep\/logs\/service\.log<\/string>/);
    expect(plist.match(/<dict>/g)!.length).toBe(plist.match(/<\/dict>/g)!.length);
  });

  test('install bootstraps it into the GUI domain; uninstall boots it out', () => {
    const env = fakeEnv('darwin');
    expect(install(env, spec(env.home)).code).toBe(0);
    expect(unitPath(env)).toBe(path.join(env.home, 'Library', 'LaunchAgents', 'dev.beep.daemon.plist'));
    expect(env.calls).toEqual([`launchctl bootstrap gui/501 ${unitPath(env)}`]);
    uninstall(env);
    expect(env.calls[1]).toBe('launchctl bootout gui/501/dev.beep.daemon');
    expect(fs.existsSync(unitPath(env))).toBe(false);
  });
});

test('Windows: documented steps, exit code 2, nothing written', () => {
  const env = fakeEnv('win32');
  const result = install(env, spec(env.home));
  expect(result.code).toBe(2);
  expect(result.lines.join('\n')).toContain('schtasks /Create /SC ONLOGON');
  expect(env.calls).toEqual([]);
});
