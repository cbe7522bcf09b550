import type Redis from 'ioredis';
import type { Db } from '../../store/database';
import { sealRow } from '../../store/row-seal';
import { aadOf, type FieldSealer } from '../../store/rows';
import { RedisAdminCredentials } from '../redis-admin-credentials';
import type { RedisKeys } from '../redis-keys';
import { decodeEntry, entryJsonOf, seqOfStreamId } from '../stream-entry';

// `beep cluster export`, the state half: the cluster's Redis written into a fresh SQLite store
// (migrated, empty) as the rows an embedded daemon reads. Seqs are kept (the outbox stream's ids
// become the rows' seqs, the shared counters the tables' AUTOINCREMENT), so every device's
// progress and dismissal cursor is copied as it is. Device names stay sealed as they are (the
// cluster's data keys are copied into data_keys first); a notification is opened from its stream
// entry and sealed again as a row (the same seal, bound to its id).

/** Entries read per XRANGE. */
const PAGE = 500;

/** What exportState wrote, for the report. */
export interface StateExported {
  notifications: number;
  dismissals: number;
  devices: { id: string; name: string }[];
  refreshTokens: number;
  apiTokens: number;
  adminPassword: boolean;
  lastSeq: number;
}

type StreamEntry = [string, string[]];

/** Sets an AUTOINCREMENT table's last id (the next row continues after the cluster's counter). */
function setLastId(db: Db, table: string, seq: number): void {
  db.prepare('DELETE FROM sqlite_sequence WHERE name = ?').run(table);
  db.prepare('INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)').run(table, seq);
}

/** Every entry of a stream, a page at a time. */
async function* entries(redis: Redis, key: string): AsyncGenerator<StreamEntry> {
  let from = '-';
  for (;;) {
    const page = (await redis.xrange(key, from, '+', 'COUNT', PAGE)) as StreamEntry[];
    yield* page;
    if (page.length < PAGE) return;
    from = `(${page[page.length - 1][0]}`;
  }
}

/** Writes the cluster's state into `db` (fresh and migrated); `sealer` holds the cluster's data keys. */
export async function exportState(db: Db, redis: Redis, keys: RedisKeys, sealer: FieldSealer): Promise<StateExported> {
  // Devices first: uncached notifications and progress rows refer to them.
  const deviceIds = await redis.zrange(keys.devices, 0, -1);
  const devices: { id: string; name: string }[] = [];
  const insertDevice = db.prepare(
    'INSERT INTO devices (id, name, platform, paired_at, last_seen_at, paired_seq, token_gen, topics, history_from_ms) VALUES (@id, @name, @platform, @pairedAt, @lastSeenAt, @pairedSeq, @tokenGen, @topics, @historyFromMs)',
  );
  const insertProgress = db.prepare('INSERT INTO device_progress (device_id, watermark, dismiss_cursor) VALUES (?, ?, ?)');
  const insertPriority = db.prepare('INSERT INTO device_priority_progress (device_id, priority, watermark, acked_above) VALUES (?, ?, ?, ?)');
  const insertRefresh = db.prepare('INSERT OR IGNORE INTO refresh_tokens (hash, device_id, family, created_ms, expires_ms, used_ms) VALUES (?, ?, ?, ?, ?, ?)');
  let refreshTokens = 0;
  for (const id of deviceIds) {
    const h = await redis.hgetall(keys.device(id));
    if (h.pairedSeq === undefined || h.name === undefined || h.revokedAt !== undefined) continue;
    insertDevice.run({
      id,
      name: h.name,
      platform: h.platform ?? '',
      pairedAt: h.pairedAt ?? new Date().toISOString(),
      lastSeenAt: h.lastSeenAt ?? null,
      pairedSeq: Number(h.pairedSeq),
      tokenGen: Number(h.tokenGen ?? 1),
      topics: h.topics ?? null,
      historyFromMs: h.historyFromMs === undefined ? null : Number(h.historyFromMs),
    });
    devices.push({ id, name: sealer.open(h.name, aadOf('devices', 'name', id)) });
    const p = await redis.hgetall(keys.progress(id));
    insertProgress.run(id, Number(h.pairedSeq), Number(p.dc ?? 0));
    for (let priority = 1; priority <= 5; priority++) {
      if (p[`w${priority}`] !== undefined) insertPriority.run(id, priority, Number(p[`w${priority}`]), p[`a${priority}`] ?? '[]');
    }
    // Its refresh-token families, live and revoked (a revoked one still detects reuse).
    const families = [...(await redis.zrange(keys.liveFamilies(id), 0, -1)), ...(await redis.smembers(keys.deadFamilies(id)))];
    for (const family of families) {
      for (const hash of await redis.smembers(keys.refreshFamily(family))) {
        const r = await redis.hgetall(keys.refreshToken(hash));
        if (r.d !== id) continue;
        insertRefresh.run(hash, id, family, Number(r.c), Number(r.e), r.u === undefined ? null : Number(r.u));
        refreshTokens++;
      }
    }
  }
  const known = new Set(devices.map((d) => d.id));

  // Notifications still in the outbox stream, each under its seq.
  const insertNotification = db.prepare(
    `INSERT INTO notifications (seq, id, title, body, app, priority, tags, url, topic, source, created_at, created_ms, dismissed_at, replaces, icon, markdown, untitled, token_id, sealed)
     VALUES (@seq, @id, @title, @body, @app, @priority, @tags, @url, @topic, @source, @createdAt, @createdMs, @dismissedAt, @replaces, @icon, @markdown, @untitled, @tokenId, @sealed)`,
  );
  const insertUncached = db.prepare('INSERT INTO uncached_notifications (seq) VALUES (?)');
  const insertOwed = db.prepare('INSERT INTO uncached_owed (seq, device_id) VALUES (?, ?)');
  let notifications = 0;
  for await (const [streamId, fields] of entries(redis, keys.outbox)) {
    const seq = seqOfStreamId(streamId);
    const dismissedAt = await redis.hget(keys.dismissed, String(seq));
    const n = decodeEntry(sealer, seq, entryJsonOf(fields), dismissedAt);
    const secrets = { title: n.title, body: n.body, app: n.app, tags: n.tags, url: n.url, icon: n.icon ?? null, givenPriority: n.givenPriority, actions: n.actions, attachment: n.attachment ?? undefined };
    insertNotification.run({
      seq,
      id: n.id,
      ...sealRow(sealer, n.id, secrets),
      priority: n.priority,
      topic: n.topic,
      source: n.source,
      createdAt: n.createdAt,
      createdMs: Date.parse(n.createdAt),
      dismissedAt: n.dismissedAt,
      replaces: n.replaces ?? null,
      markdown: n.markdown ? 1 : 0,
      untitled: n.untitled ? 1 : 0,
      tokenId: n.tokenId ?? null,
    });
    if (n.owedTo) {
      insertUncached.run(seq);
      for (const d of n.owedTo) if (known.has(d)) insertOwed.run(seq, d);
    }
    notifications++;
  }
  const lastSeq = Number((await redis.get(keys.seq)) ?? 0);
  setLastId(db, 'notifications', lastSeq);

  // Dismissals under their seqs (the devices' cursors count them).
  const insertDismissal = db.prepare('INSERT INTO dismissals (seq, notification_id, by_device, at_ms) VALUES (?, ?, ?, ?)');
  let dismissals = 0;
  for await (const [streamId, f] of entries(redis, keys.dismissals)) {
    const field = (name: string) => {
      for (let i = 0; i + 1 < f.length; i += 2) if (f[i] === name) return f[i + 1];
      return '';
    };
    insertDismissal.run(seqOfStreamId(streamId), field('id'), field('by') || null, Number(field('at')));
    dismissals++;
  }
  setLastId(db, 'dismissals', Number((await redis.get(keys.dismissalSeq)) ?? 0));

  // API tokens not revoked, under their ids.
  const insertToken = db.prepare(
    'INSERT INTO api_tokens (id, hash, kind, name, topics, created_ms, last_used_ms, origin, parent_id, description, default_priority) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  let apiTokens = 0;
  for (const id of await redis.zrange(keys.apiTokens, 0, -1)) {
    const t = await redis.hgetall(keys.apiToken(Number(id)));
    if (t.kind === undefined || t.revokedMs !== undefined) continue;
    const parent = t.parentId === undefined ? null : Number(t.parentId);
    insertToken.run(Number(id), t.hash, t.kind, t.name ?? '', t.topics ?? null, Number(t.createdMs), t.lastUsedMs === undefined ? null : Number(t.lastUsedMs), t.origin ?? 'admin', parent, t.description ?? null, t.defaultPriority === undefined ? null : Number(t.defaultPriority));
    apiTokens++;
  }
  setLastId(db, 'api_tokens', Number((await redis.get(keys.apiTokenSeq)) ?? 0));

  // The dashboard password and TOTP secret, read through the port a node uses.
  const admin = await new RedisAdminCredentials(redis, keys, sealer).adminCredentials();
  if (admin) {
    const totp = admin.totpSecret === null ? null : sealer.seal(admin.totpSecret, aadOf('admin_credentials', 'totp_secret', '1'));
    db.prepare('INSERT INTO admin_credentials (id, password_hash, totp_secret, updated_ms) VALUES (1, ?, ?, ?)').run(admin.passwordHash, totp, Date.now());
  }
  return { notifications, dismissals, devices, refreshTokens, apiTokens, adminPassword: admin !== undefined, lastSeq };
}
