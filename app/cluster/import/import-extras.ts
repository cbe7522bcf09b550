import type Redis from 'ioredis';
import type { NotificationInput } from '../../domain/notification';
import type { Db } from '../../store/database';
import type { FieldSealer } from '../../store/rows';
import { scheduledAad } from '../../store/scheduled-store';
import { RedisDesktopIds } from '../redis-desktop-ids';
import type { RedisKeys } from '../redis-keys';
import { RedisScheduleStore } from '../redis-schedule-store';

// `beep cluster init` and `export`, the smaller parts: scheduled notifications not yet due
// (through RedisScheduleStore, the port every node's scheduler reads) and the desktop close
// mappings of notifications this install captured (through RedisDesktopIds under this install's
// node id, since its desktop is the one that showed them). Export brings the scheduled ones back;
// desktop mappings are not exported (the exported install may sit on another desktop).

/** Entries read at once when exporting the scheduled notifications. */
const SCHEDULED_EXPORT_LIMIT = 100_000;

/** Copies the install's scheduled notifications and its desktop mappings (after importState: a mapping needs its notification). */
export async function importExtras(db: Db, redis: Redis, keys: RedisKeys, sealer: FieldSealer, nodeId: string, claimMs: number): Promise<{ scheduled: number; desktopIds: number }> {
  const schedule = new RedisScheduleStore(redis, keys, sealer, nodeId, claimMs);
  let scheduled = 0;
  for (const r of db.prepare('SELECT id, due_ms, created_ms, sealed FROM scheduled_notifications ORDER BY due_ms, id').all() as { id: string; due_ms: number; created_ms: number; sealed: string }[]) {
    const input = JSON.parse(sealer.open(r.sealed, scheduledAad(r.id))) as NotificationInput;
    await schedule.add({ id: r.id, dueMs: r.due_ms, createdMs: r.created_ms, input });
    scheduled++;
  }
  const desktop = new RedisDesktopIds(redis, keys, nodeId);
  let desktopIds = 0;
  for (const r of db.prepare('SELECT d.notification_id AS id, d.source AS source, d.desktop_key AS key FROM desktop_notifications d JOIN notifications n ON n.id = d.notification_id ORDER BY n.seq').all() as { id: string; source: string; key: string }[]) {
    await desktop.rememberDesktopId(r.source, r.key, r.id);
    desktopIds++;
  }
  return { scheduled, desktopIds };
}

/** Writes the cluster's scheduled notifications into the exported store. */
export async function exportScheduled(db: Db, redis: Redis, keys: RedisKeys, sealer: FieldSealer, nodeId: string, claimMs: number): Promise<number> {
  const entries = await new RedisScheduleStore(redis, keys, sealer, nodeId, claimMs).list(SCHEDULED_EXPORT_LIMIT);
  const insert = db.prepare('INSERT OR IGNORE INTO scheduled_notifications (id, due_ms, created_ms, topic, token_id, sealed) VALUES (?, ?, ?, ?, ?, ?)');
  for (const e of entries) insert.run(e.id, e.dueMs, e.createdMs, e.input.topic ?? null, e.input.tokenId ?? null, sealer.seal(JSON.stringify(e.input), scheduledAad(e.id)));
  return entries.length;
}
