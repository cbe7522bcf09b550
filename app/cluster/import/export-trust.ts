import crypto from 'node:crypto';
import path from 'node:path';
import type Redis from 'ioredis';
import type { WrappedKey } from '../../crypto/field-cipher';
import { AuditKey } from '../../domain/audit-chain';
import { writeSecretFile } from '../../util/secure-file';
import { RedisCaStore } from '../redis-ca-store';
import { RedisClusterLease } from '../redis-cluster-lease';
import { RedisDataKeys } from '../redis-data-keys';
import type { RedisKeys } from '../redis-keys';
import { RedisMasterCheck } from '../redis-master-check';
import { RedisSharedSecret } from '../redis-shared-secret';
import { RedisSigningKeyRing, type RedisRingOptions } from '../redis-signing-key-ring';

// `beep cluster export`, the trust half: the cluster's CA into certs/ (phones keep their pin),
// its signing keys into keys/signing-<ms>.pem (access tokens keep verifying), its audit key into
// keys/audit.key, and the data-key ring and audit head returned for the caller to store in SQLite.
// Each is read through the port class a node reads it with.

/** Where the embedded install's files go, and what the ring needs to open. */
export interface ExportTarget {
  master: Buffer;
  keysDir: string;
  certDir: string;
  label: string;
  signing: RedisRingOptions;
  nodeId: string;
  leaseTtlMs: number;
}

/** What exportTrust wrote and read. */
export interface TrustExported {
  caFingerprint: string;
  signingKeys: number;
  dataKeys: WrappedKey[];
  /** The cluster's audit key and its chain's head as a signed anchor (null: no chain yet). */
  audit: { key: Buffer; anchor: { seq: number; mac: string; sig: string } | null } | null;
}

/** Reads the cluster's trust material into the target directories (the master key is checked first: another one throws). */
export async function exportTrust(redis: Redis, keys: RedisKeys, target: ExportTarget): Promise<TrustExported> {
  await new RedisMasterCheck(redis, keys, target.master).verify();
  const ca = await new RedisCaStore(redis, keys, target.master).syncToDirectory(target.certDir, target.label);
  const lease = new RedisClusterLease(redis, keys, 'signing-key-rotation', target.nodeId, target.leaseTtlMs);
  const ring = await RedisSigningKeyRing.open(redis, keys, target.master, lease, target.signing);
  for (const kid of ring.kids()) {
    const key = ring.byKid(kid)!;
    writeSecretFile(path.join(target.keysDir, `signing-${key.createdMs}.pem`), key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  }
  const dataKeys = await new RedisDataKeys(redis, keys).list();
  let audit: TrustExported['audit'] = null;
  if ((await redis.exists(keys.sharedSecret('audit-key'))) === 1) {
    const key = await new RedisSharedSecret(redis, keys, target.master, 'audit-key').shared(crypto.randomBytes(32));
    writeSecretFile(path.join(target.keysDir, 'audit.key'), key);
    audit = { key, anchor: null };
    // The chain's head as audit-scripts.ts HEAD reads it: the last entry, else the anchor.
    const last = (await redis.xrevrange(keys.audit, '+', '-', 'COUNT', 1))[0] as [string, string[]] | undefined;
    const anchor = await redis.hgetall(keys.auditAnchor);
    const head = last ? { seq: Number.parseInt(last[0], 10), mac: last[1][9] } : anchor.seq !== undefined ? { seq: Number(anchor.seq), mac: anchor.mac } : null;
    if (head) audit.anchor = { ...head, sig: new AuditKey(key).sign('anchor', [head.seq, head.mac]) };
  }
  return { caFingerprint: ca.fingerprint, signingKeys: ring.kids().length, dataKeys, audit };
}
