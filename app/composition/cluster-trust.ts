import { publicHostOf } from '../config/public-url';
import os from 'node:os';
import path from 'node:path';
import type Redis from 'ioredis';
import type { SigningKey } from '../auth/signing-keys';
import { joinAuditChain } from '../cluster/audit-join';
import type { RedisAuditStore } from '../cluster/redis-audit-store';
import { RedisCaStore, type CaSync } from '../cluster/redis-ca-store';
import { LeaseBusyError, RedisClusterLease } from '../cluster/redis-cluster-lease';
import { RedisDataKeys } from '../cluster/redis-data-keys';
import type { RedisKeys } from '../cluster/redis-keys';
import { RedisMasterCheck } from '../cluster/redis-master-check';
import { RedisSharedSecret } from '../cluster/redis-shared-secret';
import { RedisSigningKeyRing } from '../cluster/redis-signing-key-ring';
import { CLUSTER_LEASE_TTL_MS, DATA_KEY_ACTIVATION_MS, SIGNING_KEY_ACTIVATION_MS } from '../config/defaults';
import type { BeepConfig } from '../config/schema';
import { loadOrCreateAuditKey } from '../crypto/audit-key';
import { createCertificateAuthority } from '../crypto/certificate-authority';
import { newDataKey, type FieldCipher } from '../crypto/field-cipher';
import { AuditKey } from '../domain/audit-chain';
import { BeepError } from '../domain/errors';
import type { RotationProgressView } from '../http/routes/key-routes';
import type { Logger } from '../observability/logger';
import { CheckpointFile } from '../store/audit-checkpoint-file';

// What a cluster node trusts, shared through Redis sealed under the master key: the master key
// check (another key is refused at start), the CA (synced into certs/ before the certificates
// load), the token signing-key ring, the data-key ring (reloaded with the signing ring every
// TRUST_REFRESH_MS; rotated under a cluster lease) and the audit key. `beep cert rotate-ca`
// replaces the CA under the `ca-rotation` lease (composition/cluster-ca.ts swaps it in on every node).

/** seconds a retired signing key verifies beyond the token lifetime: tolerated clock skew (as composition/security.ts). */
const CLOCK_SKEW_SEC = 60;

/** A node's shared trust material, opened before anything signs, seals or loads a certificate. */
export interface ClusterTrust {
  /** The data-key ring every node seals with. */
  dataKeys: RedisDataKeys;
  /** The key nodes seal with: the newest one every node has had time to load. */
  currentDataKey(): Promise<string | undefined>;
  /** The token signing keys every node signs and verifies with. */
  signingKeys: RedisSigningKeyRing;
  /** Loads keys another node added and switches to the current data key; reloads the signing ring. */
  refresh(): Promise<void>;
  /**
   * `beep keys rotate` on a cluster: under the `data-key-rotation` lease, a new key joins the
   * shared ring; every node loads it and seals with it once DATA_KEY_ACTIVATION_MS has passed.
   * Older keys stay in the ring (outbox entries are never rewritten; retention trims them).
   */
  rotateDataKey(): Promise<{ started: boolean; progress: RotationProgressView }>;
  /**
   * `beep cert rotate-ca` on a cluster: under the `ca-rotation` lease, a new name-constrained CA
   * replaces the cluster's while it is still `expected` (else ca_changed, 409); another node
   * rotating at the same moment answers rate_limited (retry). Returns the new CA's fingerprint.
   */
  rotateAuthority(expected: string): Promise<{ fingerprint: string; generation: number }>;
  /** Writes the cluster's CA into certs/ when it is not the one there (a rotation on another node). */
  syncAuthority(): Promise<CaSync>;
  /**
   * Before the audit log opens: the cluster's audit MAC key (the first node's keys/audit.key)
   * and, on a node joining a chain that has entries, its checkpoint file started from the
   * chain's verified head.
   */
  joinAudit(store: RedisAuditStore): Promise<AuditKey>;
}

/** Checks the master key, syncs the CA into certs/ and opens the signing ring; throws (the start stops) on another master key. */
export async function openClusterTrust(
  config: BeepConfig,
  conn: { redis: Redis; keys: RedisKeys; nodeId: string },
  vault: { master: Buffer; cipher: FieldCipher },
  log: Logger,
  /** The node's file signing key: it seeds an empty cluster ring, so tokens it signed stay valid. */
  seed: SigningKey[],
): Promise<ClusterTrust> {
  const { redis, keys, nodeId } = conn;
  const { master, cipher } = vault;
  const lease = (name: string) => new RedisClusterLease(redis, keys, name, nodeId, CLUSTER_LEASE_TTL_MS);
  // Another master key could open none of the cluster's keys: refused here, with what to copy.
  await new RedisMasterCheck(redis, keys, master).verify();
  const caStore = new RedisCaStore(redis, keys, master);
  const caLabel = publicHostOf(config.gateway) ?? os.hostname();
  const ca = await caStore.syncToDirectory(config.tls.certDir, caLabel);
  if (ca.outcome === 'replaced') {
    log.warn(`this node's CA (${ca.previous ?? 'unreadable'}) was replaced by the cluster's (${ca.fingerprint}): phones that pinned this node's previous CA (paired before it joined the cluster, or before a CA rotation while it was down) must pair again`, { ...ca });
  } else log.info(`the cluster's CA: ${ca.outcome}`, { ...ca });
  const signingKeys = await RedisSigningKeyRing.open(
    redis,
    keys,
    master,
    lease('signing-key-rotation'),
    { rotationDays: config.auth.signingKeyRotationDays, retainMs: (config.auth.accessTokenTtlSec + CLOCK_SKEW_SEC) * 1000, activationMs: SIGNING_KEY_ACTIVATION_MS },
    seed,
  );
  const dataKeys = new RedisDataKeys(redis, keys);
  return {
    dataKeys,
    signingKeys,
    currentDataKey: () => dataKeys.currentId(DATA_KEY_ACTIVATION_MS),
    // A key another node added (a rotation) is loaded here before anyone seals with it (DATA_KEY_ACTIVATION_MS > TRUST_REFRESH_MS).
    async refresh() {
      for (const key of await dataKeys.list()) cipher.add(master, key);
      const current = await dataKeys.currentId(DATA_KEY_ACTIVATION_MS);
      if (current) cipher.use(current);
      await signingKeys.refresh();
    },
    async rotateDataKey() {
      const key = newDataKey(master);
      try {
        await lease('data-key-rotation').run(async () => void (await dataKeys.add(key)));
      } catch (error) {
        if (error instanceof LeaseBusyError) throw new BeepError('rate_limited', 'Another node is rotating the data key; try again later.', { retryAfter: Math.ceil(CLUSTER_LEASE_TTL_MS / 1000) });
        throw error;
      }
      cipher.add(master, key);
      return { started: true, progress: { running: false, keyId: key.id, phase: 'activating', done: 0, total: 0 } };
    },
    async rotateAuthority(expected) {
      const next = await createCertificateAuthority(caLabel, new Date());
      let rotation;
      try {
        rotation = await lease('ca-rotation').run(() => caStore.rotate(expected, next));
      } catch (error) {
        if (error instanceof LeaseBusyError) throw new BeepError('rate_limited', 'Another node is replacing the cluster\'s CA; try again later.', { retryAfter: Math.ceil(CLUSTER_LEASE_TTL_MS / 1000) });
        throw error;
      }
      if (rotation.outcome === 'changed') {
        throw new BeepError('ca_changed', `The cluster's CA is no longer ${expected} (now ${rotation.fingerprint ?? 'none'}): another node replaced it. Check \`beep cert status\`; rotate again only if you still want another CA.`, { details: { caFingerprint: rotation.fingerprint } });
      }
      return { fingerprint: rotation.fingerprint, generation: rotation.generation };
    },
    syncAuthority: () => caStore.syncToDirectory(config.tls.certDir, caLabel),
    async joinAudit(store) {
      const key = new AuditKey(await new RedisSharedSecret(redis, keys, master, 'audit-key').shared(loadOrCreateAuditKey(path.join(config.dataDir, 'keys'))));
      const joined = await joinAuditChain(store, key, CheckpointFile.inDataDir(config.dataDir, config.store.durability === 'full'));
      if (joined && !joined.ok) log.error('the cluster\'s audit chain does not verify; this node starts no checkpoint from it', { seq: joined.seq, problem: joined.problem });
      return key;
    },
  };
}
