import type Redis from 'ioredis';
import type { Db } from '../../store/database';
import { aadOf, type FieldSealer } from '../../store/rows';
import { RedisApiTokens } from '../redis-api-tokens';
import type { RedisKeys } from '../redis-keys';

// A second install joining a cluster that already has data: its phones pin another CA and its
// seqs, ids and keys are not the cluster's, so nothing of it can be taken over as it is. This
// lists what would need pairing (or creating) again; `--force` takes only what cannot conflict:
// plain API tokens (made by `beep token create`), whose secret is only a hash and whose rights
// are their topics, given new ids from the cluster's counter. Gotify applications (their topic is
// named from their id) and clients (children of another token) are listed, not imported.

/** What a second install would lose by joining. */
export interface RepairList {
  devices: { id: string; name: string }[];
  apiTokens: { id: number; name: string; kind: string }[];
}

/** The install's devices not revoked (by name) and its API tokens not revoked. */
export function repairList(db: Db, sealer: FieldSealer): RepairList {
  const devices = (db.prepare('SELECT id, name FROM devices WHERE revoked_at IS NULL ORDER BY paired_at').all() as { id: string; name: string }[]).map((d) => {
    let name: string;
    try {
      name = sealer.open(d.name, aadOf('devices', 'name', d.id));
    } catch {
      name = '(name unreadable)';
    }
    return { id: d.id, name };
  });
  const apiTokens = db.prepare('SELECT id, name, kind FROM api_tokens WHERE revoked_ms IS NULL ORDER BY id').all() as { id: number; name: string; kind: string }[];
  return { devices, apiTokens };
}

/** --force: the plain API tokens the cluster does not already hold, under new ids; the rest named with why. */
export async function importForced(db: Db, redis: Redis, keys: RedisKeys): Promise<{ imported: { oldId: number; id: number; name: string }[]; skipped: { id: number; name: string; why: string }[] }> {
  const tokens = new RedisApiTokens(redis, keys);
  const imported: { oldId: number; id: number; name: string }[] = [];
  const skipped: { id: number; name: string; why: string }[] = [];
  const rows = db.prepare('SELECT id, hash, kind, name, topics, origin, parent_id, description FROM api_tokens WHERE revoked_ms IS NULL ORDER BY id').all() as {
    id: number;
    hash: string;
    kind: 'publish' | 'subscribe';
    name: string;
    topics: string | null;
    origin: string;
    parent_id: number | null;
    description: string | null;
  }[];
  for (const t of rows) {
    if (t.origin !== 'admin' || t.parent_id !== null || t.description !== null) {
      skipped.push({ id: t.id, name: t.name, why: 'a Gotify application or client: create it again on the cluster' });
      continue;
    }
    if (await tokens.apiTokenByHash(t.hash)) {
      skipped.push({ id: t.id, name: t.name, why: 'the cluster already has this token' });
      continue;
    }
    const record = await tokens.insertApiToken(t.hash, t.kind, t.name, t.topics === null ? null : (JSON.parse(t.topics) as string[]), { origin: 'admin', parentId: null });
    if (record) imported.push({ oldId: t.id, id: record.id, name: t.name });
    else skipped.push({ id: t.id, name: t.name, why: 'not stored: create it again on the cluster' });
  }
  return { imported, skipped };
}
