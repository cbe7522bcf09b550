import type Redis from 'ioredis';
import type { RedisKeys } from '../redis-keys';

// What a cluster's Redis already holds, by kind, read before `beep cluster init` writes
// anything: an install is imported only into a cluster that holds none of it (its CA, keys,
// seqs, devices, tokens, audit chain), since a second install's phones pin another CA and its
// seqs, ids and keys would collide with the cluster's.

/** One kind of cluster state and the key (from RedisKeys) whose presence says the cluster has it. */
function markers(keys: RedisKeys): [string, string][] {
  return [
    ['a CA', keys.certificateAuthority],
    ['a master key check (a node has started)', keys.masterCheck],
    ['data keys', keys.dataKeys],
    ['token signing keys', keys.signingKeys],
    ['notifications', keys.seq],
    ['devices', keys.devices],
    ['API tokens', keys.apiTokenSeq],
    ['a dashboard password', keys.adminCredentials],
    ['an audit chain', keys.audit],
    ['an audit anchor', keys.auditAnchor],
    ['an audit key', keys.sharedSecret('audit-key')],
  ];
}

/** The kinds of state the cluster already holds; empty = an empty cluster an install may be imported into. */
export async function clusterContents(redis: Redis, keys: RedisKeys): Promise<string[]> {
  const found: string[] = [];
  for (const [what, key] of markers(keys)) if ((await redis.exists(key)) === 1) found.push(what);
  return found;
}
