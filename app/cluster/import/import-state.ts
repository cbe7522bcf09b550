import type Redis from 'ioredis';
import type { NotificationInput } from '../../domain/notification';
import type { RefreshTokenRow } from '../../store/credential-repository';
import type { Db } from '../../store/database';
import { aadOf, NOTIFICATION_COLUMNS, toNotification, type FieldSealer, type NotificationRow } from '../../store/rows';
import { REFRESH_KEEP_MS } from '../account-scripts';
import { INSERT_TOKEN } from '../api-token-scripts';
import { APPEND } from '../outbox-scripts';
import { RedisAdminCredentials } from '../redis-admin-credentials';
import type { RedisKeys } from '../redis-keys';
import { encodeEntry } from '../stream-entry';

// `beep cluster init`, the state half: an embedded install's SQLite rows written into an empty
// cluster. Seqs are kept: in an empty cluster the install's seqs become the cluster's (the
// shared counter is set to the install's last seq), so every device's progress (watermarks,
// acked-above, dismissal cursor) is copied as it is, with no translation. Notifications go
// through the outbox's own APPEND script (the counter set one below each seq first), so the
// stream entry and every index are what a node writes; API tokens through INSERT_TOKEN the same
// way. Devices, progress and refresh tokens have no insert script (pairing makes them), so they
// are written field by field under RedisKeys' names and the fields its comments document.

/** What importState copied, for the report. */
export interface StateImported {
  notifications: number;
  undismissed: number;
  dismissals: number;
  devices: { id: string; name: string }[];
  refreshTokens: number;
  apiTokens: { id: number; name: string }[];
  adminPassword: boolean;
  lastSeq: number;
}

interface TokenRow {
  id: number;
  hash: string;
  kind: string;
  name: string;
  topics: string | null;
  created_ms: number;
  last_used_ms: number | null;
  origin: string;
  parent_id: number | null;
  description: string | null;
  default_priority: number | null;
}

/** The last value an AUTOINCREMENT table handed out (survives deleted rows). */
function lastId(db: Db, table: string): number {
  return (db.prepare('SELECT seq FROM sqlite_sequence WHERE name = ?').get(table) as { seq: number } | undefined)?.seq ?? 0;
}

/** Copies the install's state; `sealer` holds the install's data keys (already in the cluster's ring). */
export async function importState(db: Db, redis: Redis, keys: RedisKeys, sealer: FieldSealer, options: { retentionSec: number; nowMs: number }): Promise<StateImported> {
  const P = keys.prefix;
  const cutoffMs = options.nowMs - options.retentionSec * 1000;
  const active = db.prepare('SELECT id, name, platform, paired_at, last_seen_at, paired_seq, token_gen, topics, history_from_ms FROM devices WHERE revoked_at IS NULL ORDER BY paired_at').all() as {
    id: string;
    name: string;
    platform: string;
    paired_at: string;
    last_seen_at: string | null;
    paired_seq: number;
    token_gen: number;
    topics: string | null;
    history_from_ms: number | null;
  }[];
  const activeIds = new Set(active.map((d) => d.id));

  // Notifications within retention, in seq order, each through APPEND with its own seq and time.
  const uncachedOwed = new Map<number, string[]>();
  for (const r of db.prepare('SELECT n.seq AS seq, o.device_id AS device FROM uncached_notifications n LEFT JOIN uncached_owed o ON o.seq = n.seq').all() as { seq: number; device: string | null }[]) {
    const list = uncachedOwed.get(r.seq) ?? [];
    if (r.device && activeIds.has(r.device)) list.push(r.device);
    uncachedOwed.set(r.seq, list);
  }
  let notifications = 0;
  let undismissed = 0;
  const rows = db.prepare(`SELECT ${NOTIFICATION_COLUMNS}, created_ms FROM notifications WHERE created_ms >= ? ORDER BY seq`).iterate(cutoffMs) as IterableIterator<NotificationRow & { created_ms: number }>;
  for (const row of rows) {
    const n = toNotification(row, sealer);
    const owedTo = uncachedOwed.get(n.seq);
    const input: NotificationInput = { ...n, ...(owedTo ? { uncached: true, owedTo } : {}) };
    const owed = n.dismissedAt !== null || owedTo?.length === 0 ? '0' : '1';
    await redis.set(keys.seq, String(n.seq - 1));
    const args = [P, n.id, options.retentionSec, n.priority, n.topic ?? '', n.replaces ?? '', owedTo ? '1' : '0', owed, n.createdAt, encodeEntry(sealer, input, n.id, n.createdAt)];
    const [stored, seq] = (await APPEND.run(redis, args)) as [number, number];
    if (stored !== 1 || seq !== n.seq) throw new Error(`notification ${n.id} was not stored under seq ${n.seq} (the cluster was not empty?)`);
    if (n.dismissedAt !== null) await redis.hset(keys.dismissed, String(n.seq), n.dismissedAt);
    else undismissed++;
    notifications++;
  }
  // The shared counter continues after the install's last seq (even one retention removed).
  const lastSeq = lastId(db, 'notifications');
  await redis.set(keys.seq, String(lastSeq));

  // Dismissals keep their seqs, so each device's dismissal cursor is copied as it is.
  let dismissals = 0;
  for (const d of db.prepare('SELECT seq, notification_id, by_device, at_ms FROM dismissals ORDER BY seq').iterate() as IterableIterator<{ seq: number; notification_id: string; by_device: string | null; at_ms: number }>) {
    await redis.xadd(keys.dismissals, `${d.seq}-0`, 'id', d.notification_id, 'by', d.by_device ?? '', 'at', String(d.at_ms));
    dismissals++;
  }
  await redis.set(keys.dismissalSeq, String(lastId(db, 'dismissals')));

  // Devices, in pairing order, with their progress per priority and dismissal cursor.
  let score = 0;
  for (const d of active) {
    const fields: Record<string, string> = { name: d.name, platform: d.platform, pairedAt: d.paired_at, pairedSeq: String(d.paired_seq), tokenGen: String(d.token_gen) };
    if (d.last_seen_at) fields.lastSeenAt = d.last_seen_at;
    if (d.topics !== null) fields.topics = d.topics;
    if (d.history_from_ms !== null) fields.historyFromMs = String(d.history_from_ms);
    await redis.hset(keys.device(d.id), fields);
    score = Math.max(Date.parse(d.paired_at) || 0, score + 1);
    await redis.zadd(keys.devices, score, d.id);
    const progress: Record<string, string> = {};
    const cursor = db.prepare('SELECT dismiss_cursor FROM device_progress WHERE device_id = ?').get(d.id) as { dismiss_cursor: number } | undefined;
    progress.dc = String(cursor?.dismiss_cursor ?? 0);
    for (const p of db.prepare('SELECT priority, watermark, acked_above FROM device_priority_progress WHERE device_id = ?').all(d.id) as { priority: number; watermark: number; acked_above: string }[]) {
      progress[`w${p.priority}`] = String(p.watermark);
      progress[`a${p.priority}`] = p.acked_above;
    }
    await redis.hset(keys.progress(d.id), progress);
  }

  // Refresh tokens still usable, by family (a family's first token dates it in the device's session list).
  let refreshTokens = 0;
  const tokens = db.prepare('SELECT hash, device_id, family, created_ms, expires_ms, used_ms FROM refresh_tokens WHERE expires_ms > ? ORDER BY created_ms').all(options.nowMs) as RefreshTokenRow[];
  for (const t of tokens) {
    if (!activeIds.has(t.device_id)) continue;
    const fields: Record<string, string> = { d: t.device_id, f: t.family, c: String(t.created_ms), e: String(t.expires_ms) };
    if (t.used_ms !== null) fields.u = String(t.used_ms);
    const until = t.expires_ms + REFRESH_KEEP_MS;
    await redis.multi()
      .hset(keys.refreshToken(t.hash), fields)
      .pexpireat(keys.refreshToken(t.hash), until)
      .sadd(keys.refreshFamily(t.family), t.hash)
      .pexpireat(keys.refreshFamily(t.family), until)
      .zadd(keys.liveFamilies(t.device_id), 'NX', t.created_ms, t.family)
      .exec();
    refreshTokens++;
  }

  // API tokens not revoked, each under its own id through INSERT_TOKEN (the counter set below it first).
  const apiTokens: { id: number; name: string }[] = [];
  for (const t of db.prepare('SELECT id, hash, kind, name, topics, created_ms, last_used_ms, origin, parent_id, description, default_priority FROM api_tokens WHERE revoked_ms IS NULL ORDER BY id').all() as TokenRow[]) {
    const fields: Record<string, string> = { kind: t.kind, name: t.name, createdMs: String(t.created_ms), origin: t.origin };
    if (t.topics !== null) fields.topics = t.topics;
    if (t.last_used_ms !== null) fields.lastUsedMs = String(t.last_used_ms);
    if (t.parent_id !== null) fields.parentId = String(t.parent_id);
    if (t.description !== null) fields.description = t.description;
    if (t.default_priority !== null) fields.defaultPriority = String(t.default_priority);
    await redis.set(keys.apiTokenSeq, String(t.id - 1));
    const stored = Number(await INSERT_TOKEN.run(redis, [P, t.id, t.hash, JSON.stringify(fields), t.parent_id ?? '']));
    if (stored !== 1) throw new Error(`API token ${t.id} (${t.name}) was not stored (${stored})`);
    apiTokens.push({ id: t.id, name: t.name });
  }
  await redis.set(keys.apiTokenSeq, String(lastId(db, 'api_tokens')));

  // The dashboard password and TOTP secret, through the port a node reads them with.
  const admin = db.prepare('SELECT password_hash, totp_secret FROM admin_credentials WHERE id = 1').get() as { password_hash: string; totp_secret: string | null } | undefined;
  if (admin) {
    const totp = admin.totp_secret === null ? null : sealer.open(admin.totp_secret, aadOf('admin_credentials', 'totp_secret', '1'));
    await new RedisAdminCredentials(redis, keys, sealer).setAdminCredentials(admin.password_hash, totp);
  }

  return { notifications, undismissed, dismissals, devices: active.map((d) => ({ id: d.id, name: sealer.open(d.name, aadOf('devices', 'name', d.id)) })), refreshTokens, apiTokens, adminPassword: admin !== undefined, lastSeq };
}
