import { DashboardSessions } from '../../../app/dashboard/dashboard-sessions';

// What hangs on a dashboard session (its live feed) closes when the session ends, however it
// ends: logout, a password change (every session), idle expiry, or eviction past the cap.

function sessionsAt(now: { ms: number }) {
  return new DashboardSessions({ loginTtlSec: 60, sessionIdleSec: 100, now: () => now.ms });
}

test('logout closes what hangs on that session only', async () => {
  const sessions = sessionsAt({ ms: 0 });
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
  await sessions.end(a); // twice: nothing more
  expect(closed).toEqual(['a1', 'a2']);
});

test('endAll (a password change) ends every session and closes everything', async () => {
  const sessions = sessionsAt({ ms: 0 });
  const ids = [(await sessions.open()).sessionId, (await sessions.open()).sessionId];
  const closed: number[] = [];
  ids.forEach((id, i) => sessions.onEnd(id, () => closed.push(i)));
  await sessions.endAll();
  expect(closed.sort()).toEqual([0, 1]);
  for (const id of ids) expect(await sessions.get(id)).toBeUndefined();
});

test('an unsubscribed closer is not called; an unknown session takes none', async () => {
  const sessions = sessionsAt({ ms: 0 });
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
  const now = { ms: 0 };
  const sessions = sessionsAt(now);
  const oldest = (await sessions.open()).sessionId;
  const idle = (await sessions.open()).sessionId;
  const closed: string[] = [];
  sessions.onEnd(oldest, () => closed.push('evicted'));
  sessions.onEnd(idle, () => closed.push('expired'));
  for (let i = 0; i < 15; i++) (await sessions.open()); // 17 sessions: the oldest goes
  expect(closed).toEqual(['evicted']);
  now.ms = 200_000;
  expect(await sessions.get(idle)).toBeUndefined();
  expect(closed).toEqual(['evicted', 'expired']);
});
