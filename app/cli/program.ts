import { Command, Option } from 'commander';
import os from 'node:os';
import path from 'node:path';
import { resolveDataDir, type ConfigFlags } from '../config/load';
import { desktopSession } from '../config/session-env';
import { currentEnv, install, status as serviceStatus, uninstall } from '../service/service-manager';
import { VERSION } from '../version';
import { askYes } from './ask-yes';
import { backupCommand, restoreCommand } from './backup-command';
import { devicesCommand, pairCommand, reportCliError, revokeCommand, sendCommand, statusCommand, type Io } from './commands';
import { dashboardCommand } from './dashboard-command';
import { adminPasswordSetCommand, auditListCommand, auditVerifyCommand, certCommand, certRotateCaCommand, keysRotateCommand } from './security-commands';
import { tokenCreateCommand, tokenListCommand, tokenRevokeCommand } from './token-commands';
import { scheduledCancelCommand, scheduledListCommand } from './scheduled-commands';

// Every `beep` command, its options and help, wired to the command functions of cli/. main.ts
// builds this and supplies `start` (the daemon in the foreground, with its signals). `listen`
// (the socket.io client, ~12 MB resident) and `cluster init`/`export` (ioredis and the import code)
// are loaded when those commands run, not in the daemon.

/** What the program needs from main.ts. */
export interface ProgramDeps {
  io: Io;
  /** `beep start`: runs the daemon until a signal. */
  start: (flags: ConfigFlags) => Promise<void>;
}

/** The `beep` command line, ready for parseAsync. */
export function buildProgram({ io, start }: ProgramDeps): Command {
  const run = (action: () => Promise<number>): Promise<void> =>
    action().then(
      (code) => process.exit(code),
      (error) => process.exit(reportCliError(error, io)),
    );

  const program = new Command('beep')
    .description('Beep: your PC\'s notifications on your phones, over the LAN, no cloud.')
    .version(VERSION)
    .option('--data-dir <dir>', 'data directory (default: $BEEP_HOME, $XDG_DATA_HOME/beep or ~/.local/share/beep)')
    .showHelpAfterError();

  const dataDir = () => resolveDataDir({ dataDir: program.opts().dataDir });

  program
    .command('start')
    .description('run the daemon in the foreground')
    .option('--gateway-port <port>', 'LAN port for phones (0 = any free port)')
    .option('--admin-port <port>', 'loopback port for the CLI and scripts (0 = any free port)')
    .option('--gateway-host <host>', 'address the gateway binds')
    .option('--admin-host <host>', 'address the admin listener binds')
    .addOption(new Option('--log-level <level>', 'log level').choices(['error', 'warn', 'info', 'debug']))
    .option('--cert-dir <dir>', 'where the CA and server certificate live (default: <data dir>/certs)')
    .action((options) => start({ ...options, dataDir: program.opts().dataDir }));

  program
    .command('pair')
    .description('show a QR code, code and URL to pair a phone')
    .option('--no-history', "never show this phone what arrived before it paired (pairing someone else's phone)")
    .action((options) => run(() => pairCommand(dataDir(), Boolean(options.history), io)));

  program
    .command('send')
    .description('send a notification to every paired device')
    .argument('<title>', 'the title')
    .option('-b, --body <text>', 'the body')
    .option('-p, --priority <priority>', '1-5 or min, low, default, high, urgent (max = urgent)')
    .option('-a, --app <name>', 'the app it comes from')
    .option('-t, --tag <tag...>', 'tags (repeatable)')
    .option('-u, --url <url>', 'a link to open on click')
    .option('--topic <topic>', 'a topic')
    .option('--id <id>', 'an idempotency id: sending it twice delivers once')
    .option('-f, --file <path>', 'attach a file (streamed to the daemon, stored encrypted; README: "Attachments")')
    .option('--json', 'print {id, duplicate, devices, online} as JSON')
    .action((title: string, options) => run(() => sendCommand(dataDir(), title, options, io)));

  program
    .command('devices')
    .description('list paired devices')
    .option('--json', 'print JSON')
    .action((options) => run(() => devicesCommand(dataDir(), Boolean(options.json), io)));

  program
    .command('revoke')
    .description('revoke a device (by id, id prefix or name): its tokens die and its socket closes')
    .argument('<device>')
    .action((device: string) => run(() => revokeCommand(dataDir(), device, io)));

  program
    .command('status')
    .description('print the daemon\'s health; exits non-zero unless ok')
    .option('--json', 'print JSON')
    .action((options) => run(() => statusCommand(dataDir(), Boolean(options.json), io)));

  const token = program.command('token').description('API tokens for ntfy and Gotify apps and scripts');
  token
    .command('create')
    .description('create a token (printed once on stdout)')
    .option('--publish', 'may publish (ntfy publisher, Gotify application)')
    .option('--subscribe', 'may subscribe (ntfy subscriber, Gotify client)')
    .option('--topics <a,b>', 'limit it to these topics (default: every topic)')
    .option('--name <name>', 'a name (the Gotify application name)')
    .option('--json', 'print JSON')
    .action((options) => run(() => tokenCreateCommand(dataDir(), options, io)));
  token
    .command('list')
    .description('list live tokens (never their secrets)')
    .option('--json', 'print JSON')
    .action((options) => run(() => tokenListCommand(dataDir(), Boolean(options.json), io)));
  token
    .command('revoke')
    .description('revoke a token by id: refused at once, its open streams closed')
    .argument('<id>')
    .action((id: string) => run(() => tokenRevokeCommand(dataDir(), id, io)));
  const scheduled = program.command('scheduled').description('notifications scheduled for later (ntfy Delay/At/In) that are not due yet');
  scheduled
    .command('list')
    .description('list them, earliest first')
    .option('--json', 'print JSON')
    .action((options) => run(() => scheduledListCommand(dataDir(), Boolean(options.json), io)));
  scheduled
    .command('cancel')
    .description('cancel one by id: it is never sent')
    .argument('<id>')
    .action((id: string) => run(() => scheduledCancelCommand(dataDir(), id, io)));
  const service = program.command('service').description('run Beep as a user service (systemd on Linux, launchd on macOS, Task Scheduler on Windows)');
  const serviceSpec = () => ({
    node: process.execPath,
    main: path.resolve(__dirname, '..', 'main.js'),
    dataDir: dataDir(),
    logFile: path.join(dataDir(), 'logs', 'service.log'),
  });
  const report = (result: { code: number; lines: string[] }) => {
    for (const line of result.lines) (result.code === 0 ? io.out : io.err)(line);
    return result.code;
  };
  service
    .command('install')
    .description('write and enable the service: starts now, at every login, and again after a crash')
    .action(() => run(async () => report(install(currentEnv(desktopSession()), serviceSpec()))));
  service
    .command('uninstall')
    .description('stop and remove the service')
    .action(() => run(async () => report(uninstall(currentEnv(desktopSession())))));
  service
    .command('status')
    .description('whether the service is installed and running')
    .action(() => run(async () => report(serviceStatus(currentEnv(desktopSession())))));

  program
    .command('backup')
    .description('an encrypted online backup of the database (safe while Beep runs)')
    .argument('<file>', 'the backup file to create')
    .action((file: string) => run(() => backupCommand(dataDir(), file, { ...io, tty: Boolean(process.stderr.isTTY) })));

  program
    .command('restore')
    .description('replace the database with a backup (stop Beep first)')
    .argument('<file>', 'a file made by `beep backup`')
    .action((file: string) => run(() => restoreCommand(dataDir(), file, io)));

  program
    .command('dashboard')
    .description('open the local dashboard (a one-time login link; printed when no browser can be opened)')
    .option('--no-open', 'only print the link')
    .action((options) => run(() => dashboardCommand(dataDir(), Boolean(options.open), io)));

  const cert = program.command('cert').description('the gateway\'s TLS certificate');
  cert
    .command('status')
    .description('expiry, names and fingerprints of the served certificate')
    .option('--json', 'print JSON')
    .action((options) => run(() => certCommand(dataDir(), 'status', Boolean(options.json), io)));
  cert
    .command('renew')
    .description('issue a new server certificate now; the running gateway swaps it in without a restart')
    .option('--json', 'print JSON')
    .action((options) => run(() => certCommand(dataDir(), 'renew', Boolean(options.json), io)));
  cert
    .command('rotate-ca')
    .description('replace the CA with a new one limited to LAN names; every phone must pair again')
    .option('--yes', 'confirm without a question (needed when stdin is not a terminal)')
    .option('--json', 'print JSON')
    .action((options) =>
      run(() =>
        certRotateCaCommand(dataDir(), { yes: Boolean(options.yes), ask: process.stdin.isTTY ? askYes : undefined }, Boolean(options.json), io),
      ),
    );

  const keys = program.command('keys').description('encryption of stored notifications and device names');
  keys
    .command('rotate')
    .description('re-encrypt everything under a new data key while the daemon serves (resumable)')
    .action(() =>
      run(() =>
        keysRotateCommand(dataDir(), {
          ...io,
          // On a terminal the bar redraws in place; otherwise one line per change.
          progress: process.stderr.isTTY ? (line) => process.stderr.write(`\r${line}`) : (line) => io.err(line),
        }),
      ),
    );

  program
    .command('admin')
    .description('dashboard access')
    .command('password')
    .description('the dashboard password')
    .command('set')
    .description('set it from the first line of stdin (12+ characters, at most 72 bytes, no NUL)')
    .option('--totp', 'also require a one-time password; prints the otpauth URL to scan')
    .action((options) =>
      run(() =>
        adminPasswordSetCommand(
          dataDir(),
          Boolean(options.totp),
          () =>
            new Promise((resolve) => {
              let text = '';
              process.stdin.setEncoding('utf8');
              process.stdin.on('data', (d) => (text += d));
              process.stdin.on('end', () => resolve(text.split('\n')[0] ?? ''));
            }),
          io,
        ),
      ),
    );

  const audit = program.command('audit').description('the security audit log');
  audit
    .command('verify')
    .description('check the keyed chain against the checkpoint file; names the first bad entry (works with the daemon stopped)')
    .action(() => run(() => auditVerifyCommand(dataDir(), io)));
  audit
    .command('list')
    .description('the newest entries')
    .option('-n, --limit <n>', 'how many', '50')
    .option('--json', 'print JSON')
    .action((options) => run(() => auditListCommand(dataDir(), Number(options.limit), Boolean(options.json), io)));

  const cluster = program.command('cluster').description('move this install into a cluster (several PCs sharing one Redis) and back; run with Beep stopped');
  cluster
    .command('init')
    .description('import this embedded install (phones, tokens, history, keys, CA) into an empty cluster; its phones need no pairing again')
    .option('--redis <url>', 'the cluster\'s Redis (default: $BEEP_REDIS_URL or cluster.redisUrl)')
    .option('--force', 'the cluster already has data: import only what cannot conflict (plain API tokens) and list what must pair again')
    .action((options) => run(async () => (await import('./cluster-commands')).clusterInitCommand(dataDir(), options, io)));
  cluster
    .command('export')
    .description('write the cluster into this (empty) data directory as an embedded install serving the same phones')
    .option('--redis <url>', 'the cluster\'s Redis (default: $BEEP_REDIS_URL or cluster.redisUrl)')
    .action((options) => run(async () => (await import('./cluster-commands')).clusterExportCommand(dataDir(), options, io)));

  program
    .command('listen')
    .description('a phone in a terminal: pair, then print what arrives and ack it')
    .option('--url <url>', 'the pairing URL `beep pair` printed')
    .option('--code <code>', 'a pairing code (with the daemon on this PC, or with --url)')
    .option('--state <file>', 'where tokens and seen ids are kept (default: <data dir>/listen.json)')
    .option('--name <name>', 'the device name', `${os.hostname()} terminal`)
    .option('--history', 'when pairing: also show what arrived recently, if the pairing code offers it')
    .option('--json', 'print each notification as a JSON line')
    .action((options) => run(async () => (await import('./listen-command')).listenCommand(dataDir(), options, io)));

  return program;
}
