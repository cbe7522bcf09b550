import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LAUNCHD_LABEL, SYSTEMD_UNIT_NAME, launchdPlist, systemdUnit, type ServiceSpec } from './unit-files';

// `beep service install|uninstall|status`: writes the unit for this platform and asks the
// service manager (systemctl --user, launchctl) to enable, start, stop or describe it.

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
  run: Runner;
}

/** This machine's service environment, for the session `config/session-env` read. */
export function currentEnv(session: { configHome?: string }): ServiceEnv {
  return { platform: process.platform, home: os.homedir(), configHome: session.configHome, uid: process.getuid?.() ?? 0, run: systemRunner };
}

export function unitPath(env: ServiceEnv): string {
  if (env.platform === 'darwin') return path.join(env.home, 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`);
  return path.join(env.configHome ?? path.join(env.home, '.config'), 'systemd', 'user', SYSTEMD_UNIT_NAME);
}

const WINDOWS = [
  'Windows has no user service manager Beep can drive; start it at logon with Task Scheduler:',
  '  schtasks /Create /SC ONLOGON /TN Beep /TR "\\"<node.exe>\\" \\"<path>\\dist\\app\\main.js\\" start" /RL LIMITED',
  'Stop it with `schtasks /End /TN Beep` (Beep shuts down cleanly on Ctrl+C / SIGINT).',
];

function step(env: ServiceEnv, lines: string[], command: string, args: string[]): boolean {
  const r = env.run(command, args);
  const ok = r.status === 0 && !r.error;
  if (!ok) lines.push(`\`${command} ${args.join(' ')}\` failed: ${(r.error?.message ?? r.stderr.trim()) || `exit ${r.status}`}`);
  return ok;
}

export function install(env: ServiceEnv, spec: ServiceSpec): ServiceResult {
  if (env.platform === 'win32') return { code: 2, lines: WINDOWS };
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
  if (env.platform === 'win32') return { code: 2, lines: ['Remove the task with: schtasks /Delete /TN Beep /F'] };
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
  if (env.platform === 'win32') return { code: 2, lines: ['Check the task with: schtasks /Query /TN Beep'] };
  const file = unitPath(env);
  if (!fs.existsSync(file)) return { code: 3, lines: [`not installed (no ${file}); run \`beep service install\``] };
  const r =
    env.platform === 'darwin'
      ? env.run('launchctl', ['print', `gui/${env.uid}/${LAUNCHD_LABEL}`])
      : env.run('systemctl', ['--user', 'is-active', SYSTEMD_UNIT_NAME]);
  const state = r.error ? `unknown (${r.error.message})` : r.stdout.trim().split('\n')[0] || r.stderr.trim() || `exit ${r.status}`;
  return { code: r.status === 0 ? 0 : 1, lines: [`installed: ${file}`, `state: ${state}`] };
}
