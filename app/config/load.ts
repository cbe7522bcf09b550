import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configSchema, type BeepConfig } from './schema';

// The only reader of process.env and the config file: defaults < config.json < env < flags.

/** Flags `beep start` accepts; each overrides the environment. */
export interface ConfigFlags {
  dataDir?: string;
  gatewayPort?: string | number;
  adminPort?: string | number;
  gatewayHost?: string;
  adminHost?: string;
  logLevel?: string;
  certDir?: string;
}

/** Every problem found in the configuration, reported together (exit code 2). */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** BRIEF.md: $BEEP_HOME, else $XDG_DATA_HOME/beep, else ~/.local/share/beep. */
export function resolveDataDir(flags: ConfigFlags = {}, env: Env = process.env): string {
  if (flags.dataDir) return path.resolve(flags.dataDir);
  if (env.BEEP_HOME) return path.resolve(env.BEEP_HOME);
  if (env.XDG_DATA_HOME) return path.join(env.XDG_DATA_HOME, 'beep');
  return path.join(os.homedir(), '.local', 'share', 'beep');
}

function readConfigFile(file: string, problems: string[]): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    problems.push(`${file}: cannot be read (${(error as Error).message})`);
    return {};
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    problems.push(`${file}: must hold a JSON object`);
  } catch (error) {
    problems.push(`${file}: is not valid JSON (${(error as Error).message})`);
  }
  return {};
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const prior = out[key];
    const bothObjects = value && typeof value === 'object' && !Array.isArray(value) && prior && typeof prior === 'object';
    out[key] = bothObjects ? deepMerge(prior as Record<string, unknown>, value as Record<string, unknown>) : value;
  }
  return out;
}

function layer(values: {
  gatewayPort?: string | number;
  adminPort?: string | number;
  gatewayHost?: string;
  adminHost?: string;
  logLevel?: string;
  redisUrl?: string;
  certDir?: string;
  passphrase?: string;
}): Record<string, unknown> {
  return {
    gateway: { port: values.gatewayPort, host: values.gatewayHost },
    admin: { port: values.adminPort, host: values.adminHost },
    log: { level: values.logLevel },
    cluster: { redisUrl: values.redisUrl },
    tls: { certDir: values.certDir ? path.resolve(values.certDir) : undefined },
    encryption: { passphrase: values.passphrase },
  };
}

/**
 * The session bus: an address in the config file wins, then $DBUS_SESSION_BUS_ADDRESS, then
 * systemd's per-user socket. Capture is on by default on Linux, macOS's on macOS, Windows's on
 * Windows (its database under %LOCALAPPDATA%).
 */
function desktopSources(merged: Record<string, unknown>, env: Env): Record<string, unknown> {
  const sources = (merged.sources ?? {}) as { dbus?: Record<string, unknown>; macos?: Record<string, unknown>; windows?: Record<string, unknown> };
  const localAppData = env.LOCALAPPDATA || path.join(os.homedir(), 'AppData', 'Local');
  const dbus = sources.dbus ?? {};
  const configured = typeof dbus.address === 'string' ? dbus.address : null;
  const fromEnv = env.DBUS_SESSION_BUS_ADDRESS || null;
  const uid = typeof process.getuid === 'function' ? process.getuid() : null;
  const fallback = uid === null ? null : `unix:path=/run/user/${uid}/bus`;
  return {
    dbus: {
      enabled: process.platform === 'linux',
      ...dbus,
      address: configured ?? fromEnv ?? fallback,
      addressOrigin: configured ? 'config' : fromEnv ? 'env' : 'default',
    },
    // macOS 15 keeps it here; older releases under $(getconf DARWIN_USER_DIR)com.apple.notificationcenter/db2/db.
    macos: {
      enabled: process.platform === 'darwin',
      database: path.join(os.homedir(), 'Library', 'Group Containers', 'group.com.apple.usernoted', 'db2', 'db'),
      ...sources.macos,
    },
    windows: {
      enabled: process.platform === 'win32',
      database: path.join(localAppData, 'Microsoft', 'Windows', 'Notifications', 'wpndatabase.db'),
      ...sources.windows,
    },
  };
}

function freeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) freeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** Builds the frozen config, or throws ConfigError listing every problem at once. */
export function loadConfig(flags: ConfigFlags = {}, env: Env = process.env): BeepConfig {
  const problems: string[] = [];
  const dataDir = resolveDataDir(flags, env);
  const file = readConfigFile(path.join(dataDir, 'config.json'), problems);
  if ('dataDir' in file) problems.push('config.json: "dataDir" cannot be set inside the data directory');

  let merged: Record<string, unknown> = { dataDir, tls: { certDir: path.join(dataDir, 'certs') } };
  merged = deepMerge(merged, { ...file, dataDir });
  merged = deepMerge(
    merged,
    layer({
      gatewayPort: env.BEEP_GATEWAY_PORT,
      adminPort: env.BEEP_ADMIN_PORT,
      logLevel: env.BEEP_LOG_LEVEL,
      redisUrl: env.BEEP_REDIS_URL || undefined,
      passphrase: env.BEEP_MASTER_PASSPHRASE || undefined,
    }),
  );
  merged = deepMerge(merged, layer(flags));
  merged = deepMerge(merged, { sources: desktopSources(merged, env) });

  const { value, error } = configSchema.validate(merged, { abortEarly: false, convert: true });
  if (error) problems.push(...error.details.map((d) => d.message));
  if (problems.length > 0) throw new ConfigError(problems);
  return freeze(value as BeepConfig);
}
