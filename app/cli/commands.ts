import fs from 'node:fs';
import path from 'node:path';
import { parsePriority } from '../domain/priority';
import type { DeviceView } from '../domain/device';
import { AdminClient, AdminError } from './admin-client';
import { qrTerminal } from '../pairing/qr';
import { count, groupedFingerprint } from './text';

// The admin-side CLI commands: pair, send, devices, revoke, status. Each returns its exit code.

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

export async function pairCommand(dataDir: string, history: boolean, io: Io): Promise<number> {
  const client = AdminClient.fromDataDir(dataDir);
  const { body } = await client.request<{ code: string; expiresAt: string; url: string; historyHours: number }>(
    'POST',
    '/api/v1/pairings',
    history ? undefined : { history: false },
  );
  io.out(await qrTerminal(body.url));
  io.out(`Scan the code with the phone, or open: ${body.url}`);
  io.out(`Pairing code: ${body.code.slice(0, 4)} ${body.code.slice(4)}  (valid until ${new Date(body.expiresAt).toLocaleTimeString()})`);
  const fingerprint = new URLSearchParams(new URL(body.url).hash.slice(1)).get('fp');
  if (fingerprint) io.out(`CA fingerprint (the phone checks it; compare with its trust page): ${groupedFingerprint(fingerprint)}`);
  io.out(
    body.historyHours > 0
      ? `The phone may choose to show what arrived in the last ${count(body.historyHours, 'hour')} (\`beep pair --no-history\` for someone else's phone)`
      : 'This code shows the phone nothing from before it pairs.',
  );
  io.out(`From a terminal: beep listen --url '${body.url}'`);
  return 0;
}

export interface SendOptions {
  body?: string;
  priority?: string;
  app?: string;
  tag?: string[];
  url?: string;
  topic?: string;
  id?: string;
  /** A file to attach (`beep send --file`). */
  file?: string;
  json?: boolean;
}

/** ntfy's names for the ends of the scale, accepted by `beep send -p` (the protocol keeps 1-5). */
const CLI_PRIORITY_ALIASES: Record<string, string> = { max: 'urgent' };

export async function sendCommand(dataDir: string, title: string, options: SendOptions, io: Io): Promise<number> {
  let priority: number | undefined;
  if (options.priority !== undefined) {
    priority = parsePriority(CLI_PRIORITY_ALIASES[options.priority.toLowerCase()] ?? options.priority);
    if (priority === undefined) {
      io.err(`--priority must be 1-5 or min, low, default, high, urgent (max = urgent) (got "${options.priority}")`);
      return 2;
    }
  }
  if (options.file !== undefined && !fs.statSync(options.file, { throwIfNoEntry: false })?.isFile()) {
    io.err(`--file: no file at ${options.file}`);
    return 2;
  }
  const client = AdminClient.fromDataDir(dataDir);
  const payload = {
    title,
    ...(options.body !== undefined ? { body: options.body } : {}),
    ...(priority !== undefined ? { priority } : {}),
    ...(options.app !== undefined ? { app: options.app } : {}),
    ...(options.tag?.length ? { tags: options.tag } : {}),
    ...(options.url !== undefined ? { url: options.url } : {}),
    ...(options.topic !== undefined ? { topic: options.topic } : {}),
    ...(options.id !== undefined ? { id: options.id } : {}),
  };
  const { status, body } = options.file
    ? await client.upload<{ id: string; error?: { message: string } }>('/api/v1/notifications/attachment', options.file, {
        'x-beep-source': 'cli',
        'x-beep-notification': Buffer.from(JSON.stringify(payload)).toString('base64url'),
        'x-beep-filename': encodeURIComponent(path.basename(options.file)),
      })
    : await client.request<{ id: string; error?: { message: string } }>('POST', '/api/v1/notifications', payload, { 'x-beep-source': 'cli' });
  if (status === 503) {
    io.err(`not accepted: ${body.error?.message ?? 'the daemon could not store it'}`);
    return 1;
  }
  const { body: devices } = await client.request<DeviceView[]>('GET', '/api/v1/devices');
  if (options.json) {
    io.out(JSON.stringify({ id: body.id, duplicate: status === 200, devices: devices.length, online: devices.filter((d) => d.online).length }));
    return 0;
  }
  io.out(status === 200 ? `already sent before as ${body.id}: not delivered again` : `accepted as ${body.id}`);
  if (devices.length === 0) {
    io.err('no device is paired yet, so no phone will get it: pair one with `beep pair`');
  } else if (status !== 200) {
    const online = devices.filter((d) => d.online).length;
    const waiting = devices.length - online;
    io.out(`  on its way to ${count(online, 'online device')}${waiting ? `; ${count(waiting, 'offline device')} will get it when ${waiting === 1 ? 'it connects' : 'they connect'}` : ''}`);
  }
  return 0;
}

function ago(iso: string | null): string {
  if (!iso) return 'never';
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

export async function devicesCommand(dataDir: string, json: boolean, io: Io): Promise<number> {
  const client = AdminClient.fromDataDir(dataDir);
  const { body } = await client.request<DeviceView[]>('GET', '/api/v1/devices');
  if (json) {
    io.out(JSON.stringify(body, null, 2));
    return 0;
  }
  if (body.length === 0) {
    io.out('No paired devices. Pair one with `beep pair`.');
    return 0;
  }
  // Cluster mode: which node holds each phone.
  const clustered = body.some((d) => d.node !== undefined);
  const rows = body.map((d) => [d.id, d.name, d.platform, d.online ? 'online' : 'offline', String(d.pending), ago(d.lastSeenAt), ...(clustered ? [d.node ?? '-'] : [])]);
  const header = ['ID', 'NAME', 'PLATFORM', 'STATE', 'PENDING', 'LAST SEEN', ...(clustered ? ['NODE'] : [])];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const row of [header, ...rows]) io.out(row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
  return 0;
}

export async function revokeCommand(dataDir: string, device: string, io: Io): Promise<number> {
  const client = AdminClient.fromDataDir(dataDir);
  const { body: devices } = await client.request<DeviceView[]>('GET', '/api/v1/devices');
  const matches = devices.filter((d) => d.id === device || d.id.startsWith(device) || d.name === device);
  if (matches.length !== 1) {
    io.err(matches.length === 0 ? `no paired device matches "${device}"` : `"${device}" matches ${matches.length} devices; use the id`);
    return 1;
  }
  await client.request('DELETE', `/api/v1/devices/${encodeURIComponent(matches[0].id)}`);
  io.out(`revoked ${matches[0].name} (${matches[0].id})`);
  return 0;
}

interface HealthReport {
  status: string;
  checks: Record<string, { status: string; latencyMs: number; reason?: string }>;
}

export async function statusCommand(dataDir: string, json: boolean, io: Io): Promise<number> {
  let client: AdminClient;
  try {
    client = AdminClient.fromDataDir(dataDir);
  } catch (error) {
    io.err((error as Error).message);
    return 3;
  }
  const { body } = await client.request<HealthReport>('GET', '/health/detailed');
  if (json) io.out(JSON.stringify(body, null, 2));
  else {
    io.out(`beep ${client.runtime.version} (pid ${client.runtime.pid}) is ${body.status}`);
    io.out(`  gateway https://0.0.0.0:${client.runtime.gatewayPort}  admin ${client.baseUrl}  data ${path.resolve(dataDir)}`);
    for (const [name, check] of Object.entries(body.checks)) {
      const reason = check.reason ? ` (${check.reason})` : '';
      io.out(`  ${name.padEnd(12)} ${check.status.padEnd(9)} ${check.latencyMs} ms${reason}`);
    }
    const redis = body.checks.redis as (HealthReport['checks'][string] & ClusterHealth) | undefined;
    if (redis?.nodes) await printCluster(client, redis, io);
  }
  return body.status === 'ok' ? 0 : 1;
}

/** What the `redis` check of a cluster node reports (composition/cluster.ts). */
interface ClusterHealth {
  node: string;
  nodes: { id: string; devices: number; version: string; seenAt: string }[];
}

/** Cluster mode: the nodes alive now, and which node holds each phone. */
async function printCluster(client: AdminClient, redis: ClusterHealth, io: Io): Promise<void> {
  // Phones per node from their leases now (a heartbeat's count may be seconds old).
  const { body: devices } = await client.request<DeviceView[]>('GET', '/api/v1/devices');
  const held = devices.filter((x) => x.node);
  io.out(`  cluster: this is node ${redis.node}; ${redis.nodes.length} node(s) alive`);
  for (const n of redis.nodes) {
    const phones = held.filter((d) => d.node === n.id).length;
    io.out(`    node ${n.id.padEnd(24)} ${String(phones).padStart(4)} phone(s)  beep ${n.version}  seen ${ago(n.seenAt)}${n.id === redis.node ? '  (this node)' : ''}`);
  }
  for (const d of held) io.out(`    phone ${d.name} (${d.id.slice(0, 8)}) on node ${d.node}`);
}

/** Turns an AdminError into one readable line and an exit code. */
export function reportCliError(error: unknown, io: Io): number {
  if (error instanceof AdminError) {
    io.err(`beep: ${error.message}${error.code && error.status ? ` [${error.code}]` : ''}`);
    return 1;
  }
  io.err(`beep: ${(error as Error).message ?? String(error)}`);
  return 1;
}

