import type Redis from 'ioredis';
import type { SigningKey } from '../../auth/signing-keys';
import type { WrappedKey } from '../../crypto/field-cipher';
import type { AuditKey, ChainHead } from '../../domain/audit-chain';
import { RedisCaStore } from '../redis-ca-store';
import { RedisClusterLease } from '../redis-cluster-lease';
import { RedisDataKeys } from '../redis-data-keys';
import type { RedisKeys } from '../redis-keys';
import { RedisMasterCheck } from '../redis-master-check';
import { RedisSharedSecret } from '../redis-shared-secret';
import { RedisSigningKeyRing, type RedisRingOptions } from '../redis-signing-key-ring';

// `beep cluster init`, the trust half: an embedded install's master key check, CA, data keys,
// token signing key, audit key and audit head become the (empty) cluster's, each through the
// port class a node reads them with (RedisCaStore, RedisDataKeys, RedisSigningKeyRing,
// RedisSharedSecret), so a node started afterwards finds them exactly as if the install had
// been the cluster's first node: phones keep their CA pin, access tokens verify, sealed values
// open, and the cluster's audit chain continues from the install's head.

/** What the install trusts, read from its data directory by the caller. */
export interface EmbeddedTrust {
  master: Buffer;
  /** The install's certs/ directory (its CA is published from there) and the label of a CA made if it has none. */
  certDir: string;
  label: string;
  /** The install's data keys, oldest first (store.dataKeys.list()). */
  dataKeys: WrappedKey[];
  /** The install's signing keys (keys/signing-*.pem). */
  signingKeys: SigningKey[];
  signing: RedisRingOptions;
  /** The install's audit key (keys/audit.key) and its chain's head (null: no keyed entry). */
  auditKey: Buffer;
  auditHead: ChainHead | null;
  /** Names the signing-key lease while the ring is opened. */
  nodeId: string;
  leaseTtlMs: number;
}

/** What importTrust did, for the report. */
export interface TrustImported {
  caFingerprint: string;
  dataKeys: number;
  signingKid: string;
  signingKeys: number;
  auditHeadSeq: number | null;
}

/** Publishes the install's trust material into an empty cluster (clusterContents said so). */
export async function importTrust(redis: Redis, keys: RedisKeys, trust: EmbeddedTrust, sign: AuditKey): Promise<TrustImported> {
  await new RedisMasterCheck(redis, keys, trust.master).verify();
  const ca = await new RedisCaStore(redis, keys, trust.master).syncToDirectory(trust.certDir, trust.label);
  if (ca.outcome !== 'published' && ca.outcome !== 'same') throw new Error(`the cluster's CA is not this install's (${ca.outcome}): it was not empty`);
  const dataKeys = new RedisDataKeys(redis, keys);
  for (const key of trust.dataKeys) await dataKeys.add(key);
  const lease = new RedisClusterLease(redis, keys, 'signing-key-rotation', trust.nodeId, trust.leaseTtlMs);
  const ring = await RedisSigningKeyRing.open(redis, keys, trust.master, lease, trust.signing, trust.signingKeys);
  // open() seeds the newest; the older ones still verify the tokens they signed before a rotation.
  await ring.adopt(trust.signingKeys);
  const shared = await new RedisSharedSecret(redis, keys, trust.master, 'audit-key').shared(trust.auditKey);
  if (!shared.equals(trust.auditKey)) throw new Error('the cluster already had another audit key: it was not empty');
  if (trust.auditHead) {
    // The head becomes the chain's signed anchor: the cluster's first entry links to it (audit-scripts.ts HEAD).
    const { seq, mac } = trust.auditHead;
    await redis.hset(keys.auditAnchor, 'seq', String(seq), 'mac', mac, 'sig', sign.sign('anchor', [seq, mac]), 'at', String(Date.now()));
  }
  return { caFingerprint: ca.fingerprint, dataKeys: trust.dataKeys.length, signingKid: ring.current().kid, signingKeys: ring.kids().length, auditHeadSeq: trust.auditHead?.seq ?? null };
}
