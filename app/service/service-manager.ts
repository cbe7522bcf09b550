import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LAUNCHD_LABEL, SCHTASKS_TASK_NAME, SYSTEMD_UNIT_NAME, launchdPlist, scheduledTaskXml, systemdUnit, type ServiceSpec } from './unit-files';

// `beep service install|uninstall|status`: writes the unit for this platform and asks the
// service manager (systemctl --user, launchctl, Task Scheduler's schtasks) to enable, start,
// stop or describe it.

export interface ServiceResult {
  code: number;
  lines: string[];
}

/** Runs a command; injectable so tests can observe what would run. */
export type Runner = (command: string, args: string[]) => { status: number | null; stdout: string; stderr: string; error?: Error };

export const systemRunner: Runner = (command, args) => {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
};

export interface ServiceEnv {
  platform: NodeJS.Platform;
  home: string;
  /** $XDG_CONFIG_HOME, when set. */
  configHome?: string;
  uid: number;
  /** Windows: %LOCALAPPDATA%, when set (the task definition is kept under it). */
  localAppData?: string;
  /** Windows: the account the logon task runs as (DOMAIN\name, or name). */
  user?: string;
  run: Runner;
}

/** This machine's service environment, for the session `config/session-env` read. */
export function currentEnv(session: { configHome?: string; localAppData?: string; userDomain?: string }): ServiceEnv {
  // Only Windows needs the account name (os.userInfo throws for a uid without a passwd entry).
  const name = process.platform === 'win32' ? os.userInfo().username : undefined;
  return {
    platform: process.platform,
    home: os.homedir(),
    configHome: session.configHome,
    uid: process.getuid?.() ?? 0,
    localAppData: session.localAppData,
    user: name && session.userDomain ? `${session.userDomain}\\${name}` : name,
    run: systemRunner,
  };
}

export function unitPath(env: ServiceEnv): string {
  if (env.platform === 'darwin') return path.join(env.home, 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`);
  if (env.platform === 'win32') return path.join(env.localAppData ?? path.join(env.home, 'AppData', 'Local'), 'Beep', 'beep-task.xml');
  return path.join(env.configHome ?? path.join(env.home, '.config'), 'systemd', 'user', SYSTEMD_UNIT_NAME);
}

function step(env: ServiceEnv, lines: string[], command: string, args: string[]): boolean {
  const r = env.run(command, args);
  const ok = r.status === 0 && !r.error;
  if (!ok) lines.push(`\`${command} ${args.join(' ')}\` failed: ${(r.error?.message ?? r.stderr.trim()) || `exit ${r.status}`}`);
  return ok;
}

/** Windows: the task definition written, then registered with schtasks and started. */
function installTask(env: ServiceEnv, spec: ServiceSpec): ServiceResult {
  const file = unitPath(env);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const text = scheduledTaskXml(spec, env.user ?? os.userInfo().username);
  fs.writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
  const lines = [`wrote ${file}`];
  const ok = step(env, lines, 'schtasks', ['/Create', '/TN', SCHTASKS_TASK_NAME, '/XML', file, '/F']) && step(env, lines, 'schtasks', ['/Run', '/TN', SCHTASKS_TASK_NAME]);
  if (ok) {
    lines.push(`Beep runs now and at every logon (Task Scheduler task "${SCHTASKS_TASK_NAME}").`);
    return { code: 0, lines };
  }
  lines.push(`The task definition is in place; register it with: schtasks /Create /TN ${SCHTASKS_TASK_NAME} /XML "${file}" /F`);
  return { code: 1, lines };
}

/** Windows: ends the task (at once: nothing accepted is lost) and deletes it. */
function uninstallTask(env: ServiceEnv): ServiceResult {
  const file = unitPath(env);
  const lines: string[] = [];
  const query = env.run('schtasks', ['/Query', '/TN', SCHTASKS_TASK_NAME]);
  let code = 0;
  if (query.status === 0 && !query.error) {
    env.run('schtasks', ['/End', '/TN', SCHTASKS_TASK_NAME]); // fails harmlessly when it is not running
    if (step(env, lines, 'schtasks', ['/Delete', '/TN', SCHTASKS_TASK_NAME, '/F'])) lines.push(`removed the Task Scheduler task "${SCHTASKS_TASK_NAME}"`);
    else code = 1;
  } else {
    lines.push(`no Task Scheduler task "${SCHTASKS_TASK_NAME}"; nothing to remove`);
  }
  fs.rmSync(file, { force: true });
  return { code, lines };
}

/** Windows: the task's state as schtasks reports it (CSV: name, next run, status). */
function taskStatus(env: ServiceEnv): ServiceResult {
  const r = env.run('schtasks', ['/Query', '/TN', SCHTASKS_TASK_NAME, '/FO', 'CSV', '/NH']);
  if (r.error || r.status !== 0) {
    const why = (r.error?.message ?? r.stderr.trim()) || `exit ${r.status}`;
    return { code: 3, lines: [`not installed (schtasks: ${why}); run \`beep service install\``] };
  }
  const fields = (r.stdout.trim().split('\n')[0] ?? '').split('","').map((f) => f.replace(/^"|"$/g, '').trim());
  const state = fields[2] || 'unknown';
  return { code: state === 'Running' ? 0 : 1, lines: [`installed: Task Scheduler task "${SCHTASKS_TASK_NAME}" (${unitPath(env)})`, `state: ${state}`] };
}

export function install(env: ServiceEnv, spec: ServiceSpec): ServiceResult {
  if (env.platform === 'win32') return installTask(env, spec);
  const file = unitPath(env);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, env.platform === 'darwin' ? launchdPlist(spec) : systemdUnit(spec), { mode: 0o644 });
  const lines = [`wrote ${file}`];
  const ok =
    env.platform === 'darwin'
      ? step(env, lines, 'launchctl', ['bootstrap', `gui/${env.uid}`, file])
      : step(env, lines, 'systemctl', ['--user', 'daemon-reload']) && step(env, lines, 'systemctl', ['--user', 'enable', '--now', SYSTEMD_UNIT_NAME]);
  if (ok) {
    lines.push(env.platform === 'darwin' ? 'Beep runs now and at every login.' : 'Beep runs now and at every login (`loginctl enable-linger` to start it at boot).');
    return { code: 0, lines };
  }
  lines.push(
    env.platform === 'darwin'
      ? `The agent file is in place; load it with: launchctl bootstrap gui/${env.uid} ${file}`
      : `The unit is in place; enable it from your desktop session with: systemctl --user enable --now ${SYSTEMD_UNIT_NAME}`,
  );
  return { code: 1, lines };
}

export function uninstall(env: ServiceEnv): ServiceResult {
  if (env.platform === 'win32') return uninstallTask(env);
  const file = unitPath(env);
  const lines: string[] = [];
  if (env.platform === 'darwin') step(env, lines, 'launchctl', ['bootout', `gui/${env.uid}/${LAUNCHD_LABEL}`]);
  else step(env, lines, 'systemctl', ['--user', 'disable', '--now', SYSTEMD_UNIT_NAME]);
  const existed = fs.existsSync(file);
  fs.rmSync(file, { force: true });
  if (env.platform !== 'darwin') step(env, [], 'systemctl', ['--user', 'daemon-reload']);
  lines.push(existed ? `removed ${file}` : `no service file at ${file}; nothing to remove`);
  return { code: 0, lines };
}

export function status(env: ServiceEnv): ServiceResult {
  if (env.platform === 'win32') return taskStatus(env);
  const file = unitPath(env);
  if (!fs.existsSync(file)) return { code: 3, lines: [`not installed (no ${file}); run \`beep service install\``] };
  const r =
    env.platform === 'darwin'
      ? env.run('launchctl', ['print', `gui/${env.uid}/${LAUNCHD_LABEL}`])
      : env.run('systemctl', ['--user', 'is-active', SYSTEMD_UNIT_NAME]);
  const state = r.error ? `unknown (${r.error.message})` : r.stdout.trim().split('\n')[0] || r.stderr.trim() || `exit ${r.status}`;
  return { code: r.status === 0 ? 0 : 1, lines: [`installed: ${file}`, `state: ${state}`] };
}
