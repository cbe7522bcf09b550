import type Redis from 'ioredis';
import { RedisDashboardSessions } from '../../app/cluster/redis-dashboard-sessions';
import { useRedis } from './fixtures';

// Dashboard sessions on Redis, case for case with test/unit/observability/dashboard-sessions.test.ts
// and test/unit/dashboard/session-end.test.ts (a nonce logs in once within its lifetime; idle
// expiry restarted by use; logout; bounded nonces; what hangs on a session closes however it ends:
// logout, endAll, expiry, eviction), with Redis' TTL as the clock; plus: a session made on one
// node works on another, logout or a password change on one node closes the other node's feed
// (announced, and by sweep without the announcement), a nonce redeemed from two connections at
// once logs in once, nothing but hashes is stored, and sessions survive a restart.

const fixture = useRedis({ config: { appendfsync: 'always' } });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function sessionsOn(r: Redis, over: { loginTtlSec?: number; sessionIdleSec?: number; onEnded?: (k: string[]) => void } = {}) {
  return new RedisDashboardSessions(r, fixture.keys, { loginTtlSec: 60, sessionIdleSec: 100, ...over });
}

/** Waits (generously) until Redis has let `key` expire. */
async function expired(key: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && (await fixture.redis.exists(key)) === 1) await sleep(20);
}

test('a nonce logs in once, within its lifetime; a session expires when idle, use restarts the timer', async () => {
  const sessions = sessionsOn(fixture.redis, { loginTtlSec: 0.3, sessionIdleSec: 0.4 });
  const { nonce } = await sessions.createNonce();
  const first = await sessions.redeem(nonce);
  expect(first).not.toBeNull();
  expect(await sessions.redeem(nonce)).toBeNull();
  expect((await sessions.get(first!.sessionId))?.csrfToken).toBe(first!.session.csrfToken);
  // Used every 100 ms for more than twice its idle time: still alive.
  const until = Date.now() + 1_000;
  while (Date.now() < until) {
    expect(await sessions.get(first!.sessionId)).toBeDefined();
    await sleep(100);
  }
  const [key] = await fixture.redis.zrange(fixture.keys.dashboardSessions, 0, -1);
  await expired(fixture.keys.dashboardSession(key));
  expect(await sessions.get(first!.sessionId)).toBeUndefined();

  const late = await sessions.createNonce();
  await expired(fixture.keys.dashboardNonce((await fixture.redis.zrange(fixture.keys.dashboardNonces, 0, -1))[0]));
  expect(await sessions.redeem(late.nonce)).toBeNull();
  expect(await sessions.redeem('x'.repeat(43))).toBeNull();
});

test('logout ends the session; outstanding nonces are bounded; only hashes are stored', async () => {
  const sessions = sessionsOn(fixture.redis);
  const nonces: string[] = [];
  for (let i = 0; i < 20; i++) nonces.push((await sessions.createNonce()).nonce);
  expect(await sessions.redeem(nonces[0])).toBeNull(); // dropped as the oldest
  const s = (await sessions.redeem(nonces[19]))!;
  const values = async (k: string): Promise<unknown> => {
    const type = await fixture.redis.type(k);
    return type === 'hash' ? fixture.redis.hgetall(k) : type === 'zset' ? fixture.redis.zrange(k, 0, -1) : fixture.redis.get(k);
  };
  const stored = await fixture.redis.keys('*');
  const dump = JSON.stringify([stored, await Promise.all(stored.map(values))]);
  expect(dump).not.toContain(s.sessionId);
  expect(dump).not.toContain(nonces[18]);
  await sessions.end(s.sessionId);
  expect(await sessions.get(s.sessionId)).toBeUndefined();
});

test('logout closes what hangs on that session only', async () => {
  const sessions = sessionsOn(fixture.redis);
  const a = (await sessions.open()).sessionId;
  const b = (await sessions.open()).sessionId;
  const closed: string[] = [];
  sessions.onEnd(a, () => closed.push('a1'));
  sessions.onEnd(a, () => closed.push('a2'));
  sessions.onEnd(b, () => closed.push('b'));
  await sessions.end(a);
  expect(closed).toEqual(['a1', 'a2']);
  expect(await sessions.get(a)).toBeUndefined();
  expect(await sessions.get(b)).toBeDefined();
  await sessions.end(a);
  expect(closed).toEqual(['a1', 'a2']);
});

test('endAll (a password change) ends every session and closes everything', async () => {
  const sessions = sessionsOn(fixture.redis);
  const ids = [(await sessions.open()).sessionId, (await sessions.open()).sessionId];
  const closed: number[] = [];
  ids.forEach((id, i) => sessions.onEnd(id, () => closed.push(i)));
  await sessions.endAll();
  expect(closed.sort()).toEqual([0, 1]);
  for (const id of ids) expect(await sessions.get(id)).toBeUndefined();
});

test('an unsubscribed closer is not called; an unknown session takes none', async () => {
  const sessions = sessionsOn(fixture.redis);
  const id = (await sessions.open()).sessionId;
  const calls: string[] = [];
  const forget = sessions.onEnd(id, () => calls.push('x'));
  forget!();
  await sessions.end(id);
  expect(calls).toEqual([]);
  expect(sessions.onEnd('not a session', () => calls.push('y'))).toBeUndefined();
  expect(sessions.onEnd(undefined, () => calls.push('z'))).toBeUndefined();
});

test('expiry and eviction close too', async () => {
  const sessions = sessionsOn(fixture.redis, { sessionIdleSec: 2 });
  const oldest = (await sessions.open()).sessionId;
  const idle = (await sessions.open()).sessionId;
  const closed: string[] = [];
  sessions.onEnd(oldest, () => closed.push('evicted'));
  sessions.onEnd(idle, () => closed.push('expired'));
  for (let i = 0; i < 15; i++) await sessions.open(); // 17 sessions: the oldest goes
  expect(closed).toEqual(['evicted']);
  expect(await sessions.get(oldest)).toBeUndefined();
  await expired(fixture.keys.dashboardSession((await fixture.redis.zrange(fixture.keys.dashboardSessions, 0, 0))[0]));
  expect(await sessions.get(idle)).toBeUndefined();
  expect(closed).toEqual(['evicted', 'expired']);
});

describe('two nodes', () => {
  test('a session opened on one node works on the other; logout there closes the first node’s feed through the announcement', async () => {
    let toA: (k: string[]) => void = () => undefined;
    const a = sessionsOn(fixture.redis);
    const b = sessionsOn(fixture.other, { onEnded: (k) => toA(k) });
    toA = (k) => a.closeEnded(k);
    const { sessionId, session } = await a.open();
    expect((await b.get(sessionId))?.csrfToken).toBe(session.csrfToken);
    const closed: string[] = [];
    a.onEnd(sessionId, () => closed.push('feed on A'));
    await b.end(sessionId);
    expect(closed).toEqual(['feed on A']);
    expect(await a.get(sessionId)).toBeUndefined();
  });

  test('a password change on one node: the other node’s feeds close by sweep even with no announcement', async () => {
    const a = sessionsOn(fixture.redis);
    const b = sessionsOn(fixture.other); // nobody listens to B's onEnded
    const { sessionId } = await a.open();
    const closed: string[] = [];
    a.onEnd(sessionId, () => closed.push('feed on A'));
    await b.endAll();
    expect(closed).toEqual([]);
    await a.sweep();
    expect(closed).toEqual(['feed on A']);
  });

  test('a nonce redeemed from two connections at once logs in once', async () => {
    const a = sessionsOn(fixture.redis);
    const b = sessionsOn(fixture.other);
    for (let round = 0; round < 20; round++) {
      const { nonce } = await a.createNonce();
      const results = await Promise.all([a.redeem(nonce), b.redeem(nonce)]);
      expect(results.filter((r) => r !== null)).toHaveLength(1);
      await a.endAll();
    }
  });
});

test('sessions survive a redis-server restart (appendonly, fsync always)', async () => {
  const sessions = sessionsOn(fixture.redis);
  const { sessionId, session } = await sessions.open();
  const { nonce } = await sessions.createNonce();
  await fixture.server.kill9();
  await fixture.server.restart();
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && (await fixture.redis.ping().catch(() => null)) !== 'PONG') await sleep(100);
  expect((await sessions.get(sessionId))?.csrfToken).toBe(session.csrfToken);
  expect(await sessions.redeem(nonce)).not.toBeNull();
});
