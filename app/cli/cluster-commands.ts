import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Redis from 'ioredis';
import { SigningKeyRing } from '../auth/signing-keys';
import { clusterContents } from '../cluster/import/cluster-contents';
import { exportState } from '../cluster/import/export-state';
import { exportTrust } from '../cluster/import/export-trust';
import { exportScheduled, importExtras } from '../cluster/import/import-extras';
import { importForced, repairList } from '../cluster/import/import-forced';
import { importState } from '../cluster/import/import-state';
import { importTrust } from '../cluster/import/import-trust';
import { loadOrCreateNodeId } from '../cluster/node-id';
import { NodeRegistry } from '../cluster/node-registry';
import { openRedis, type RedisConnection } from '../cluster/redis-connection';
import { RedisCaStore } from '../cluster/redis-ca-store';
import { RedisKeys } from '../cluster/redis-keys';
import { CLUSTER_LEASE_TTL_MS, NODE_HEARTBEAT_TTL_MS, SCHEDULE_CLAIM_MS, REDIS_COMMAND_TIMEOUT_MS, REDIS_CONNECT_TIMEOUT_MS, REDIS_MAX_RETRIES_PER_REQUEST, SIGNING_KEY_ACTIVATION_MS } from '../config/defaults';
import { loadConfig } from '../config/load';
import type { BeepConfig } from '../config/schema';
import { loadOrCreateAuditKey } from '../crypto/audit-key';
import { certPaths, readIfExists } from '../crypto/cert-files';
import { FieldCipher } from '../crypto/field-cipher';
import { loadOrCreateMasterKey } from '../crypto/master-key';
import { AuditKey } from '../domain/audit-chain';
import { openDatabase, type Db } from '../store/database';
import { acquireDataDirLock, DataDirLockedError, type DataDirLock } from '../store/data-dir-lock';
import type { Io } from './commands';
import { count } from './text';

// `beep cluster init` (an embedded install into an empty cluster) and `beep cluster export`
// (a cluster back into an embedded install): both run offline, holding the data directory's
// lock as `beep restore` does, so the daemon cannot run on it meanwhile.

/** seconds a retired signing key verifies beyond the token lifetime: tolerated clock skew (as composition/security.ts). */
const CLOCK_SKEW_SEC = 60;

/** The options both commands take. */
export interface ClusterOptions {
  /** redis:// URL; else BEEP_REDIS_URL or config cluster.redisUrl. */
  redis?: string;
  force?: boolean;
}

/** The config of the data directory, the Redis URL from the flag first. */
export function clusterConfig(dataDir: string, options: ClusterOptions): { config: BeepConfig; url: string | null } {
  const config = loadConfig({ dataDir });
  return { config, url: options.redis ?? config.cluster.redisUrl };
}

/** Opens and checks the cluster's Redis (version, no Redis Cluster, noeviction) as a node does. */
export function openClusterRedis(config: BeepConfig, url: string, io: Io): Promise<RedisConnection> {
  return openRedis(
    {
      url,
      prefix: config.cluster.keyPrefix,
      durability: config.store.durability,
      commandTimeoutMs: REDIS_COMMAND_TIMEOUT_MS,
      connectTimeoutMs: REDIS_CONNECT_TIMEOUT_MS,
      maxRetriesPerRequest: REDIS_MAX_RETRIES_PER_REQUEST,
    },
    (message) => io.err(`warning: ${message}`),
  );
}

/** Holds the data directory's lock for `work`; refuses (1) while a daemon runs on it. */
export async function withDataDirLock(dataDir: string, io: Io, work: () => Promise<number>): Promise<number> {
  let lock: DataDirLock;
  try {
    lock = acquireDataDirLock(dataDir);
  } catch (error) {
    if (!(error instanceof DataDirLockedError)) throw error;
    io.err(`Beep is running (pid ${error.pid ?? '?'}) on ${dataDir}; stop it first (\`beep service\` users: systemctl --user stop beep)`);
    return 1;
  }
  try {
    return await work();
  } finally {
    lock.release();
  }
}

/** `beep cluster init`: imports this embedded install into the cluster's (empty) Redis. */
export async function clusterInitCommand(dataDir: string, options: ClusterOptions, io: Io): Promise<number> {
  const { config, url } = clusterConfig(dataDir, options);
  if (!url) {
    io.err('no Redis URL: pass --redis redis://..., or set BEEP_REDIS_URL or cluster.redisUrl');
    return 1;
  }
  const dbFile = path.join(dataDir, 'beep.db');
  if (!fs.existsSync(dbFile)) {
    io.err(`no embedded install in ${dataDir} (no beep.db): start a node there with BEEP_REDIS_URL instead`);
    return 1;
  }
  return withDataDirLock(dataDir, io, async () => {
    const keysDir = path.join(dataDir, 'keys');
    const master = loadOrCreateMasterKey(keysDir, config.encryption.passphrase);
    const db = openDatabase({ file: dbFile, durability: config.store.durability });
    let conn: RedisConnection | undefined;
    try {
      const cipher = new FieldCipher();
      const dataKeys = db.prepare('SELECT id, wrapped FROM data_keys ORDER BY created_ms, id').all() as { id: string; wrapped: string }[];
      cipher.load(master, dataKeys);
      conn = await openClusterRedis(config, url, io);
      const keys = new RedisKeys(conn.prefix);
      const found = await clusterContents(conn.redis, keys);
      if (found.length > 0 && (await alreadyImported(conn.redis, keys, master, config.tls.certDir))) {
        io.err('this install is already the cluster\'s (the cluster holds its CA): nothing to import; start Beep here with BEEP_REDIS_URL');
        return 1;
      }
      if (found.length > 0) return await refuseOrForce(db, cipher, conn.redis, keys, found, Boolean(options.force), io);

      try {
        return await importAll(conn, keys, cipher, dataKeys, redactUrl(url));
      } catch (error) {
        io.err(`import failed: ${(error as Error).message}`);
        io.err(`the cluster may now hold part of this install and refuses another init: clear its keys first (redis-cli --scan --pattern '${conn.prefix}*' | xargs redis-cli del), then run it again`);
        return 1;
      }
    } finally {
      await conn?.close();
      db.close();
    }

    async function importAll(conn: RedisConnection, keys: RedisKeys, cipher: FieldCipher, dataKeys: { id: string; wrapped: string }[], shownUrl: string): Promise<number> {
      const auditKey = loadOrCreateAuditKey(keysDir);
      // This install is the cluster's node on this PC: its node id owns what its desktop captured.
      const nodeId = loadOrCreateNodeId(dataDir, config.cluster.nodeId);
      const ring = new SigningKeyRing(keysDir, { rotationDays: config.auth.signingKeyRotationDays, retainMs: (config.auth.accessTokenTtlSec + CLOCK_SKEW_SEC) * 1000 });
      const trust = await importTrust(
        conn.redis,
        keys,
        {
          master,
          certDir: config.tls.certDir,
          label: config.gateway.publicHost ?? os.hostname(),
          dataKeys,
          signingKeys: ring.kids().map((kid) => ring.byKid(kid)!),
          signing: { rotationDays: config.auth.signingKeyRotationDays, retainMs: (config.auth.accessTokenTtlSec + CLOCK_SKEW_SEC) * 1000, activationMs: SIGNING_KEY_ACTIVATION_MS },
          auditKey,
          auditHead: auditHeadOf(db),
          nodeId,
          leaseTtlMs: CLUSTER_LEASE_TTL_MS,
        },
        new AuditKey(auditKey),
      );
      const state = await importState(db, conn.redis, keys, cipher, { retentionSec: config.store.retentionDays * 86_400, nowMs: Date.now() });
      const extras = await importExtras(db, conn.redis, keys, cipher, nodeId, SCHEDULE_CLAIM_MS);
      io.out(`imported ${dataDir} into ${shownUrl} (prefix ${conn.prefix}):`);
      io.out(`  CA ${trust.caFingerprint}, ${count(trust.dataKeys, 'data key')}, ${count(trust.signingKeys, 'signing key')} (signing with ${trust.signingKid})`);
      io.out(`  ${count(state.devices.length, 'device')} (${state.devices.map((d) => d.name).join(', ') || 'none'}) with ${count(state.refreshTokens, 'refresh token')}: they keep working without pairing again`);
      io.out(`  ${count(state.notifications, 'notification')} (${state.undismissed} not dismissed), ${count(state.dismissals, 'dismissal')}; seqs kept as the cluster's (next: ${state.lastSeq + 1})`);
      io.out(`  ${count(state.apiTokens.length, 'API token')}${state.adminPassword ? ', the dashboard password' : ''}${trust.auditHeadSeq !== null ? `, the audit chain continues after entry ${trust.auditHeadSeq}` : ''}`);
      io.out(`  ${count(extras.scheduled, 'scheduled notification')} not yet due, ${count(extras.desktopIds, 'desktop close mapping')} (owned by this node, ${nodeId})`);
      io.out('not imported: attachment files (they stay here, served by this node); rules stay in config.json (copy it to each node)');
      io.out(`next: start Beep here with BEEP_REDIS_URL set; every other node needs a copy of ${path.join(keysDir, 'master.key')}`);
      return 0;
    }
  });
}

/** Whether the cluster's CA is this install's own (an init that already ran); false when it cannot be read with this master key. */
async function alreadyImported(redis: Redis, keys: RedisKeys, master: Buffer, certDir: string): Promise<boolean> {
  const local = await readIfExists(certPaths(certDir).caCert);
  const shared = await new RedisCaStore(redis, keys, master).get().catch(() => null);
  return local !== undefined && shared !== null && shared.certPem === local;
}

/** The last keyed entry of the install's audit chain (null when it has none). */
function auditHeadOf(db: Db): { seq: number; mac: string } | null {
  const row = db.prepare('SELECT seq, mac FROM audit_log ORDER BY seq DESC LIMIT 1').get() as { seq: number; mac: string | null } | undefined;
  return row?.mac ? { seq: row.seq, mac: row.mac } : null;
}

/** A cluster that has data: refused with what would need pairing again, or with --force only what cannot conflict. */
async function refuseOrForce(db: Db, cipher: FieldCipher, redis: Redis, keys: RedisKeys, found: string[], force: boolean, io: Io): Promise<number> {
  const list = repairList(db, cipher);
  const lines = [
    ...list.devices.map((d) => `  device "${d.name}" (${d.id}): pair it again with the cluster`),
    ...list.apiTokens.map((t) => `  API token ${t.id} "${t.name}" (${t.kind}): create it again on the cluster`),
  ];
  if (!force) {
    io.err(`refused: the cluster is not empty (it has ${found.join(', ')}); importing this install would orphan or collide with it.`);
    io.err(lines.length > 0 ? `joining it would need, from this install:\n${lines.join('\n')}` : 'this install has no devices or API tokens to lose.');
    io.err('`beep cluster init --force` imports only the API tokens that cannot conflict, and nothing else.');
    return 1;
  }
  const forced = await importForced(db, redis, keys);
  for (const t of forced.imported) io.out(`imported API token "${t.name}" (was ${t.oldId}, now ${t.id} on the cluster; its secret is unchanged)`);
  const left = [
    ...list.devices.map((d) => `  device "${d.name}" (${d.id}): pair it again with the cluster`),
    ...forced.skipped.map((t) => `  API token ${t.id} "${t.name}": ${t.why}`),
  ];
  io.out(left.length > 0 ? `must be paired or created again:\n${left.join('\n')}` : 'nothing else to pair again');
  io.out('not imported: notifications, history, progress, keys, CA, dashboard password, audit chain (the cluster keeps its own)');
  return 0;
}

/** The URL without its password, for output. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'the Redis URL';
  }
}

/** `beep cluster export`: writes the cluster into this data directory (no beep.db yet; keys/master.key copied from a node) as an embedded install. */
export async function clusterExportCommand(dataDir: string, options: ClusterOptions, io: Io): Promise<number> {
  const { config, url } = clusterConfig(dataDir, options);
  if (!url) {
    io.err('no Redis URL: pass --redis redis://..., or set BEEP_REDIS_URL or cluster.redisUrl');
    return 1;
  }
  const keysDir = path.join(dataDir, 'keys');
  const dbFile = path.join(dataDir, 'beep.db');
  if (fs.existsSync(dbFile)) {
    io.err(`${dataDir} already holds an install (beep.db); export into a new data directory holding only keys/master.key`);
    return 1;
  }
  if (config.encryption.passphrase === null && !fs.existsSync(path.join(keysDir, 'master.key'))) {
    io.err(`no ${path.join(keysDir, 'master.key')}: copy the cluster's master key from a node's keys/ first`);
    return 1;
  }
  return withDataDirLock(dataDir, io, async () => {
    const master = loadOrCreateMasterKey(keysDir, config.encryption.passphrase);
    const conn = await openClusterRedis(config, url, io);
    let db: Db | undefined;
    try {
      const keys = new RedisKeys(conn.prefix);
      const found = await clusterContents(conn.redis, keys);
      if (!found.includes('a CA') || !found.includes('data keys')) {
        io.err('the cluster has no CA or data keys yet: nothing to export');
        return 1;
      }
      const alive = await new NodeRegistry(conn.redis, keys, 'export', NODE_HEARTBEAT_TTL_MS).list();
      if (alive.length > 0) {
        io.err(`warning: ${count(alive.length, 'node')} still running (${alive.map((n) => n.id).join(', ')}): what phones fetch from them after this export is sent to them again by the exported install; stop the nodes first`);
      }
      const trust = await exportTrust(conn.redis, keys, {
        master,
        keysDir,
        certDir: config.tls.certDir,
        label: config.gateway.publicHost ?? os.hostname(),
        signing: { rotationDays: config.auth.signingKeyRotationDays, retainMs: (config.auth.accessTokenTtlSec + CLOCK_SKEW_SEC) * 1000, activationMs: SIGNING_KEY_ACTIVATION_MS },
        nodeId: loadOrCreateNodeId(dataDir, config.cluster.nodeId),
        leaseTtlMs: CLUSTER_LEASE_TTL_MS,
      });
      const cipher = new FieldCipher();
      cipher.load(master, trust.dataKeys);
      // Written to a temporary file and renamed into place last: a failed export leaves no beep.db behind.
      const tmp = `${dbFile}.export-${process.pid}`;
      db = openDatabase({ file: tmp, durability: config.store.durability });
      const insertKey = db.prepare('INSERT INTO data_keys (id, wrapped, created_ms) VALUES (?, ?, ?)');
      const base = Date.now() - trust.dataKeys.length;
      trust.dataKeys.forEach((k, i) => insertKey.run(k.id, k.wrapped, base + i));
      if (trust.audit?.anchor) {
        const a = trust.audit.anchor;
        db.prepare('INSERT INTO audit_anchor (id, seq, mac, sig, at_ms) VALUES (1, ?, ?, ?, ?)').run(a.seq, a.mac, a.sig, Date.now());
      }
      db.exec('BEGIN IMMEDIATE');
      const exportNode = loadOrCreateNodeId(dataDir, config.cluster.nodeId);
      const written = async (into: Db) => ({ ...(await exportState(into, conn.redis, keys, cipher)), scheduled: await exportScheduled(into, conn.redis, keys, cipher, exportNode, SCHEDULE_CLAIM_MS) });
      const state = await written(db).catch((error: unknown) => {
        db!.exec('ROLLBACK');
        throw error;
      });
      db.exec('COMMIT');
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
      db = undefined;
      fs.renameSync(tmp, dbFile);
      for (const suffix of ['-wal', '-shm']) fs.rmSync(tmp + suffix, { force: true });
      io.out(`exported ${redactUrl(url)} (prefix ${conn.prefix}) into ${dataDir}:`);
      io.out(`  CA ${trust.caFingerprint}, ${count(trust.dataKeys.length, 'data key')}, ${count(trust.signingKeys, 'signing key')}${trust.audit?.anchor ? `, the audit chain continues after entry ${trust.audit.anchor.seq}` : ''}`);
      io.out(`  ${count(state.devices.length, 'device')} (${state.devices.map((d) => d.name).join(', ') || 'none'}) with ${count(state.refreshTokens, 'refresh token')}: they keep working without pairing again`);
      io.out(`  ${count(state.notifications, 'notification')}, ${count(state.dismissals, 'dismissal')}, ${count(state.scheduled, 'scheduled notification')}, ${count(state.apiTokens, 'API token')}${state.adminPassword ? ', the dashboard password' : ''}; next seq ${state.lastSeq + 1}`);
      io.out('not exported: desktop close mappings, attachment files (they stay on the node that accepted them)');
      io.out('next: start Beep here without BEEP_REDIS_URL; stop the cluster\'s nodes first, or the phones will go on using them');
      return 0;
    } finally {
      db?.close();
      await conn.close();
      // A failed export leaves no half-written database behind.
      for (const suffix of ['', '-wal', '-shm']) fs.rmSync(`${dbFile}.export-${process.pid}${suffix}`, { force: true });
    }
  });
}
