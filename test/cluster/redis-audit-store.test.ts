import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { joinAuditChain } from '../../app/cluster/audit-join';
import { APPEND_AUDIT } from '../../app/cluster/audit-scripts';
import { RedisAuditStore } from '../../app/cluster/redis-audit-store';
import { AuditKey, type AuditEvent } from '../../app/domain/audit-chain';
import { verifyAudit } from '../../app/domain/audit-verify';
import { AuditLog } from '../../app/observability/audit-log';
import { CheckpointFile } from '../../app/store/audit-checkpoint-file';
import { useRedis } from './fixtures';
import { untilRedisAnswers } from './wait';

// The cluster's one audit chain: entries MAC'd as the SQLite chain's are (the same verifier walks
// it), an edit, a deletion and a forged entry each found at their entry; appends from two
// connections at once still make one valid chain; retention prunes behind a signed anchor that
// cannot be dropped or moved unseen; it survives a redis-server restart.

const DAY = 86_400_000;
const T0 = Date.UTC(2020, 0, 1);
const fixture = useRedis({ config: { appendfsync: 'always' } });
const key = new AuditKey(crypto.randomBytes(32));

const verify = (store: RedisAuditStore, k = key) => verifyAudit({ anchor: () => store.auditAnchor(), page: (a, l) => store.auditPage(a, l) }, { key: k, checkpoint: null, useCheckpoint: false });
const entry = (i: number, event: AuditEvent = 'pairing_failed') => ({ event, actor: 'ip:1.2.3.4', details: { i } });

test('entries chain under the key; a deletion, a forged entry and another key are each found at their entry', async () => {
  const store = new RedisAuditStore(fixture.redis, fixture.keys);
  for (let i = 1; i <= 5; i++) expect(await store.appendAudit(entry(i), 1000 + i, key)).toMatchObject({ seq: i });
  expect(await verify(store)).toMatchObject({ ok: true, checked: 5, head: { seq: 5 } });
  expect(await store.auditCounts()).toEqual({ total: 5, keyed: 5 });
  expect((await store.auditEntries(2, null)).map((r) => r.seq)).toEqual([5, 4]);
  expect((await store.auditEntries(10, 4)).map((r) => r.seq)).toEqual([3, 2, 1]);
  expect((await store.auditPage(3, 10)).map((r) => r.seq)).toEqual([4, 5]);
  expect(await verify(store, new AuditKey(crypto.randomBytes(32)))).toMatchObject({ ok: false, seq: 1, problem: 'altered' });
  // Someone who can write Redis but lacks the key: a forged entry, then a deletion.
  await fixture.redis.xadd(fixture.keys.audit, '6-0', 'a', '2000', 'e', 'admin_password_set', 'c', 'admin', 'd', '{}', 'm', 'f'.repeat(64));
  expect(await verify(store)).toMatchObject({ ok: false, seq: 6, problem: 'altered', checked: 5 });
  await fixture.redis.xdel(fixture.keys.audit, '3-0');
  expect(await verify(store)).toMatchObject({ ok: false, seq: 3, problem: 'missing' });
});

test('a node whose idea of the head is stale MACs again over the real head', async () => {
  const a = new RedisAuditStore(fixture.redis, fixture.keys);
  const b = new RedisAuditStore(fixture.other, fixture.keys);
  await a.appendAudit(entry(1), 1, key);
  await b.appendAudit(entry(2), 2, key); // b never saw entry 1
  await a.appendAudit(entry(3), 3, key); // a never saw entry 2
  expect(await verify(a)).toMatchObject({ ok: true, checked: 3 });
});

test('two connections appending at once still give one valid chain; neither node starves', async () => {
  // Each node has more queued than an append may lose races in a row (100): without the turn, the
  // node whose reply comes first would send its next append first and win every round.
  const stores = [new RedisAuditStore(fixture.redis, fixture.keys), new RedisAuditStore(fixture.other, fixture.keys)];
  const heads = await Promise.all(stores.flatMap((s, n) => Array.from({ length: 300 }, (_, i) => s.appendAudit(entry(n * 1000 + i), 5000 + i, key))));
  expect(new Set(heads.map((h) => h.seq)).size).toBe(600);
  expect(await verify(stores[0])).toMatchObject({ ok: true, checked: 600, head: { seq: 600 } });
  const details = (await stores[0].auditPage(0, 1000)).map((r) => JSON.parse(r.details).i);
  expect(new Set(details).size).toBe(600);
  expect(await fixture.redis.exists(fixture.keys.auditTurn)).toBe(0); // the last turn ended with its append
});

test('the node that lost a race takes the next turn: another node\'s append waits for it', async () => {
  const a = new RedisAuditStore(fixture.redis, fixture.keys);
  const first = await a.appendAudit(entry(1), 1, key);
  // Node b lost a race (it MACed over the genesis): it holds the next turn.
  const stale = await APPEND_AUDIT.run(fixture.other, [fixture.keys.prefix, 0, '0'.repeat(64), 2, 'pairing_failed', 'ip:b', '{}', 'x', '', 'node-b', 60_000]);
  expect(stale).toEqual([0, 1, first.mac]);
  const monitor = await fixture.redis.monitor();
  let attempts = 0;
  monitor.on('monitor', (_t: string, args: string[]) => (attempts += /^eval/i.test(args[0]) ? 1 : 0));
  try {
    const waiting = a.appendAudit(entry(3), 3, key);
    const deadline = Date.now() + 10_000;
    while (attempts < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5)); // a has tried (and been told to wait)
    const details = '{"i":2}';
    const mac = key.entryMac(first.mac, { seq: 2, at_ms: 2, event: 'pairing_failed', actor: 'ip:b', details });
    expect(await APPEND_AUDIT.run(fixture.other, [fixture.keys.prefix, 1, first.mac, 2, 'pairing_failed', 'ip:b', details, mac, '', 'node-b', 60_000])).toEqual([1, 2]);
    expect(await waiting).toMatchObject({ seq: 3 });
  } finally {
    monitor.disconnect();
  }
  expect(await verify(a)).toMatchObject({ ok: true, checked: 3 });
});

test('recorded today, the last details of an event', async () => {
  const store = new RedisAuditStore(fixture.redis, fixture.keys);
  await store.appendAudit({ event: 'api_token_used', actor: 'token:3', details: {} }, 5_000, key);
  await store.appendAudit({ event: 'config_changed', actor: 'system', details: { fingerprint: 'a' } }, 6_000, key);
  await store.appendAudit({ event: 'config_changed', actor: 'system', details: { fingerprint: 'b' } }, 7_000, key);
  expect(await store.auditRecordedSince('api_token_used', 'token:3', 5_000)).toBe(true);
  expect(await store.auditRecordedSince('api_token_used', 'token:3', 5_001)).toBe(false);
  expect(await store.auditRecordedSince('api_token_used', 'token:4', 0)).toBe(false);
  expect(await store.lastAuditDetails('config_changed')).toEqual({ fingerprint: 'b' });
  expect(await store.lastAuditDetails('dashboard_login')).toBeUndefined();
  expect(await store.upgradeUnkeyedAudit()).toBeNull();
});

/** The real AuditLog over the Redis store, with its checkpoint file and an injected clock. */
async function auditLog(store: RedisAuditStore, dir: string, clock: { now: number }) {
  const log = new AuditLog(store, {
    key,
    checkpoint: CheckpointFile.inDataDir(dir),
    failureWindowMs: 600_000,
    maxOpenWindows: 100,
    retentionMs: 7 * 365 * DAY,
    maintenanceEveryMs: 3_600_000,
    compactAboveBytes: 1024 * 1024,
    now: () => clock.now,
    onError: (e) => {
      throw e;
    },
  });
  await log.open();
  return log;
}

test('seven years on, old entries are pruned behind a signed anchor; it can be neither dropped nor moved unseen', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beep-redis-audit-'));
  try {
    const store = new RedisAuditStore(fixture.redis, fixture.keys);
    const clock = { now: T0 };
    const log = await auditLog(store, dir, clock);
    for (let i = 0; i < 5; i++) await log.record('device_revoked', 'admin', { i }, ), (clock.now += 60_000);
    clock.now = T0 + 3 * 365 * DAY;
    for (let i = 0; i < 3; i++) await log.record('api_token_revoked', 'admin', { i }), (clock.now += 60_000);
    clock.now = T0 + (7 * 365 + 1) * DAY;
    expect((await log.verify()).ok).toBe(true);
    await log.maintain();
    expect((await store.auditPage(0, 100)).map((r) => [r.seq, r.event])).toEqual([
      [6, 'api_token_revoked'],
      [7, 'api_token_revoked'],
      [8, 'api_token_revoked'],
      [9, 'audit_pruned'],
    ]);
    expect(JSON.parse((await store.auditEntries(1, null))[0].details)).toMatchObject({ throughSeq: 5, entries: 5 });
    expect(await store.auditAnchor()).toMatchObject({ seq: 5 });
    expect(await log.verify()).toMatchObject({ ok: true, checked: 4, firstSeq: 6, head: { seq: 9 } });
    await log.maintain(); // nothing more is old enough
    expect(await store.auditCounts()).toEqual({ total: 4, keyed: 4 });
    await log.stop();

    const anchor = await fixture.redis.hgetall(fixture.keys.auditAnchor);
    await fixture.redis.hset(fixture.keys.auditAnchor, { seq: '6', mac: (await store.auditPage(5, 1))[0].mac! });
    expect(await verify(store)).toMatchObject({ ok: false, seq: 6, problem: 'anchor_forged' });
    await fixture.redis.hset(fixture.keys.auditAnchor, anchor);
    await fixture.redis.del(fixture.keys.auditAnchor);
    expect(await verify(store)).toMatchObject({ ok: false, seq: 1, problem: 'missing' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a node joining a chain with entries starts its checkpoint file from the verified head; both nodes then verify', async () => {
  const [dirA, dirB] = [fs.mkdtempSync(path.join(os.tmpdir(), 'beep-redis-audit-')), fs.mkdtempSync(path.join(os.tmpdir(), 'beep-redis-audit-'))];
  try {
    const clock = { now: Date.now() };
    const a = await auditLog(new RedisAuditStore(fixture.redis, fixture.keys), dirA, clock);
    for (let i = 0; i < 3; i++) await a.record('device_revoked', 'admin', { i });
    const storeB = new RedisAuditStore(fixture.other, fixture.keys);
    const unjoined = await auditLog(storeB, dirB, clock);
    expect(await unjoined.verify()).toMatchObject({ ok: false, problem: 'checkpoint_missing' });
    await unjoined.stop();
    expect(await joinAuditChain(storeB, key, CheckpointFile.inDataDir(dirB))).toMatchObject({ ok: true, head: { seq: 3 } });
    expect(await joinAuditChain(storeB, key, CheckpointFile.inDataDir(dirB))).toBeNull(); // joined once
    const b = await auditLog(storeB, dirB, clock);
    await b.record('device_revoked', 'admin', { i: 'b' });
    await a.record('device_revoked', 'admin', { i: 'a' });
    expect(await a.verify()).toMatchObject({ ok: true, checked: 5 });
    expect(await b.verify()).toMatchObject({ ok: true, checked: 5 });
    // The tail cut (entries 4 and 5) is caught on B too: B recorded entry 4 in its own file.
    await fixture.redis.xdel(fixture.keys.audit, '5-0', '4-0');
    expect(await b.verify()).toMatchObject({ ok: false, seq: 4, problem: 'truncated' });
    await Promise.all([a.stop(), b.stop()]);
  } finally {
    for (const d of [dirA, dirB]) fs.rmSync(d, { recursive: true, force: true });
  }
});

test('two nodes pruning at once: one prunes, the other finds nothing left, the chain verifies', async () => {
  const a = new RedisAuditStore(fixture.redis, fixture.keys);
  const b = new RedisAuditStore(fixture.other, fixture.keys);
  for (let i = 1; i <= 6; i++) await a.appendAudit(entry(i), i <= 4 ? 1_000 : 10_000, key);
  const outcomes = await Promise.all([a.pruneAudit(5_000, 6, 20_000, key), b.pruneAudit(5_000, 6, 20_000, key)]);
  expect(outcomes.filter(Boolean)).toHaveLength(1);
  expect(outcomes.find(Boolean)).toMatchObject({ pruned: 4, throughSeq: 4, head: { seq: 7 } });
  expect(await verify(a)).toMatchObject({ ok: true, checked: 3, firstSeq: 5, head: { seq: 7 } });
  expect(await a.pruneAudit(5_000, 3, 30_000, key)).toBeNull(); // never past what verification vouched for
});

test('survives a redis-server restart: the chain verifies and goes on', async () => {
  const store = new RedisAuditStore(fixture.redis, fixture.keys);
  for (let i = 1; i <= 3; i++) await store.appendAudit(entry(i), i, key);
  await fixture.server.restart();
  await untilRedisAnswers(fixture.redis);
  await new RedisAuditStore(fixture.redis, fixture.keys).appendAudit(entry(4), 4, key);
  expect(await verify(store)).toMatchObject({ ok: true, checked: 4, head: { seq: 4 } });
});
