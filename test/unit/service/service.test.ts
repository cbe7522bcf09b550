import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { install, status, uninstall, unitPath, type Runner, type ServiceEnv } from '../../../app/service/service-manager';
import { launchdPlist, scheduledTaskXml, systemdUnit, windowsArg } from '../../../app/service/unit-files';

// `beep service`: the systemd unit passes `systemd-analyze verify` (Debian's systemd is
// installed in CI); the launchd plist's and the Task Scheduler XML's content is checked here,
// since no macOS or Windows runs these tests; install/uninstall/status drive a recorded fake
// systemctl/launchctl/schtasks (the injectable Runner, answering as those tools do), so a
// developer's real user services are never touched. Mocked: the service managers themselves.

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
    expect(unit).toMatch(/^ExecStart=\S+ --max-semi-space-size=8 \S+main\.js /m); // the daemon's V8 flags (node-flags.ts)
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
      /<key>ProgramArguments<\/key>\s*<array>\s*<string>\/usr\/local\/bin\/node<\/string>\s*<string>--max-semi-space-size=8<\/string>\s*<string>\/opt\/beep &amp; co\/main\.js<\/string>\s*<string>--data-dir<\/string>\s*<string>\/Users\/a\/beep<\/string>\s*<string>start<\/string>\s*<\/array>/,
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

/** A fake schtasks: records calls, answers from `answers` by subcommand (default: success, empty output). */
function schtasksEnv(answers: Record<string, { status: number; stdout?: string; stderr?: string }> = {}): ServiceEnv & { calls: string[] } {
  const calls: string[] = [];
  const run: Runner = (command, args) => {
    calls.push([command, ...args].join(' '));
    const answer = answers[args[0]] ?? { status: 0 };
    return { status: answer.status, stdout: answer.stdout ?? '', stderr: answer.stderr ?? '' };
  };
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'beep-service-'));
  return { platform: 'win32', home, uid: 0, localAppData: path.join(home, 'AppData', 'Local'), user: 'DESKTOP-7\\ann', run, calls };
}

/** The task file as schtasks reads it: UTF-16LE after a byte-order mark. */
function readTask(file: string): string {
  const bytes = fs.readFileSync(file);
  expect([...bytes.subarray(0, 2)]).toEqual([0xff, 0xfe]);
  return bytes.subarray(2).toString('utf16le');
}

describe('Windows Task Scheduler task', () => {
  const winSpec = { node: 'C:\\Program Files\\nodejs\\node.exe', main: 'C:\\Users\\ann\\beep & co\\dist\\app\\main.js', dataDir: 'C:\\Users\\ann\\My "data"\\', logFile: 'unused' };

  /** Windows' command-line splitting (the rules CommandLineToArgvW documents), to read windowsArg's output back. */
  function splitWindows(line: string): string[] {
    const args: string[] = [];
    let current = '';
    let quoted = false;
    let started = false;
    for (let i = 0; i < line.length; i++) {
      const ch = line[i];
      if (ch === '\\') {
        let n = 0;
        while (line[i] === '\\') (n++, i++);
        if (line[i] === '"') {
          current += '\\'.repeat(Math.floor(n / 2));
          if (n % 2 === 1) current += '"';
          else quoted = !quoted;
        } else {
          current += '\\'.repeat(n);
          i--;
        }
        started = true;
      } else if (ch === '"') {
        quoted = !quoted;
        started = true;
      } else if ((ch === ' ' || ch === '\t') && !quoted) {
        if (started) args.push(current);
        current = '';
        started = false;
      } else {
        current += ch;
        started = true;
      }
    }
    if (started) args.push(current);
    return args;
  }

  test('any argument reads back as itself after Windows splits the command line', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z \\"\t]*$/), { minLength: 1, maxLength: 4 }), (args) => {
        expect(splitWindows(args.map(windowsArg).join(' '))).toEqual(args);
      }),
      { numRuns: 500 },
    );
  });

  test('arguments are quoted the way Windows splits a command line', () => {
    expect(windowsArg('start')).toBe('start');
    expect(windowsArg('C:\\Program Files\\x')).toBe('"C:\\Program Files\\x"');
    expect(windowsArg('a "b" c')).toBe('"a \\"b\\" c"');
    expect(windowsArg('C:\\dir with space\\')).toBe('"C:\\dir with space\\\\"'); // a trailing backslash doubled before the closing quote
    expect(windowsArg('')).toBe('""');
  });

  test('the task XML: logon trigger for this user, own rights, on battery, no time limit, restart on failure, the command escaped', () => {
    const text = scheduledTaskXml(winSpec, 'DESKTOP-7\\ann');
    expect(XMLValidator.validate(text)).toBe(true);
    const task = new XMLParser({ ignoreAttributes: false, parseTagValue: false }).parse(text).Task;
    expect(task.Triggers.LogonTrigger).toEqual({ Enabled: 'true', UserId: 'DESKTOP-7\\ann' });
    expect(task.Principals.Principal).toMatchObject({ UserId: 'DESKTOP-7\\ann', LogonType: 'InteractiveToken', RunLevel: 'LeastPrivilege' });
    expect(task.Settings).toMatchObject({
      ExecutionTimeLimit: 'PT0S',
      DisallowStartIfOnBatteries: 'false',
      StopIfGoingOnBatteries: 'false',
      MultipleInstancesPolicy: 'IgnoreNew',
      RestartOnFailure: { Interval: 'PT1M', Count: '3' },
    });
    expect(task.Actions.Exec.Command).toBe('C:\\Program Files\\nodejs\\node.exe');
    expect(task.Actions.Exec.Arguments).toBe('--max-semi-space-size=8 "C:\\Users\\ann\\beep & co\\dist\\app\\main.js" --data-dir "C:\\Users\\ann\\My \\"data\\"\\\\" start');
    expect(text).toContain('beep &amp; co');
  });

  test('install writes the definition and registers and starts the task; status and uninstall ask schtasks', () => {
    const env = schtasksEnv({ '/Query': { status: 0, stdout: '"\\Beep","N/A","Running"\r\n' } });
    const result = install(env, winSpec);
    expect(result.code).toBe(0);
    const file = unitPath(env);
    expect(file).toBe(path.join(env.localAppData!, 'Beep', 'beep-task.xml'));
    expect(readTask(file)).toBe(scheduledTaskXml(winSpec, 'DESKTOP-7\\ann'));
    expect(env.calls).toEqual([`schtasks /Create /TN Beep /XML ${file} /F`, 'schtasks /Run /TN Beep']);
    expect(result.lines.join('\n')).toContain('Beep runs now and at every logon');

    expect(status(env)).toEqual({ code: 0, lines: [`installed: Task Scheduler task "Beep" (${file})`, 'state: Running'] });
    expect(env.calls.at(-1)).toBe('schtasks /Query /TN Beep /FO CSV /NH');

    expect(uninstall(env)).toEqual({ code: 0, lines: ['removed the Task Scheduler task "Beep"'] });
    expect(env.calls.slice(-3)).toEqual(['schtasks /Query /TN Beep', 'schtasks /End /TN Beep', 'schtasks /Delete /TN Beep /F']);
    expect(fs.existsSync(file)).toBe(false);
  });

  test('installed but not running: status says so and exits 1', () => {
    const env = schtasksEnv({ '/Query': { status: 0, stdout: '"\\Beep","N/A","Ready"\r\n' } });
    expect(status(env)).toMatchObject({ code: 1, lines: [expect.any(String), 'state: Ready'] });
  });

  test('not installed: status exits 3 with schtasks\' reason, uninstall has nothing to remove', () => {
    const env = schtasksEnv({ '/Query': { status: 1, stderr: 'ERROR: The system cannot find the file specified.\r\n' } });
    expect(status(env)).toEqual({ code: 3, lines: ['not installed (schtasks: ERROR: The system cannot find the file specified.); run `beep service install`'] });
    expect(uninstall(env)).toEqual({ code: 0, lines: ['no Task Scheduler task "Beep"; nothing to remove'] });
    expect(env.calls).not.toContain('schtasks /Delete /TN Beep /F');
  });

  test('schtasks refusing: the definition stays and the command to register it is named', () => {
    const env = schtasksEnv({ '/Create': { status: 1, stderr: 'ERROR: Access is denied.' } });
    const result = install(env, winSpec);
    expect(result.code).toBe(1);
    expect(fs.existsSync(unitPath(env))).toBe(true);
    expect(env.calls).toEqual([`schtasks /Create /TN Beep /XML ${unitPath(env)} /F`]);
    expect(result.lines.join('\n')).toMatch(/Access is denied[\s\S]*schtasks \/Create \/TN Beep \/XML "/);
  });
});
