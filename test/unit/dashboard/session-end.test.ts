import { DashboardSessions } from '../../../app/dashboard/dashboard-sessions';

// What hangs on a dashboard session (its live feed) closes when the session ends, however it
// ends: logout, a password change (every session), idle expiry, or eviction past the cap.

function sessionsAt(now: { ms: number }) {
  return new DashboardSessions({ loginTtlSec: 60, sessionIdleSec: 100, now: () => now.ms });
}

test('logout closes what hangs on that session only', () => {
  const sessions = sessionsAt({ ms: 0 });
  const a = sessions.open().sessionId;
  const b = sessions.open().sessionId;
  const closed: string[] = [];
  sessions.onEnd(a, () => closed.push('a1'));
  sessions.onEnd(a, () => closed.push('a2'));
  sessions.onEnd(b, () => closed.push('b'));
  sessions.end(a);
  expect(closed).toEqual(['a1', 'a2']);
  expect(sessions.get(a)).toBeUndefined();
  expect(sessions.get(b)).toBeDefined();
  sessions.end(a); // twice: nothing more
  expect(closed).toEqual(['a1', 'a2']);
});

test('endAll (a password change) ends every session and closes everything', () => {
  const sessions = sessionsAt({ ms: 0 });
  const ids = [sessions.open().sessionId, sessions.open().sessionId];
  const closed: number[] = [];
  ids.forEach((id, i) => sessions.onEnd(id, () => closed.push(i)));
  sessions.endAll();
  expect(closed.sort()).toEqual([0, 1]);
  for (const id of ids) expect(sessions.get(id)).toBeUndefined();
});

test('an unsubscribed closer is not called; an unknown session takes none', () => {
  const sessions = sessionsAt({ ms: 0 });
  const id = sessions.open().sessionId;
  const calls: string[] = [];
  const forget = sessions.onEnd(id, () => calls.push('x'));
  forget!();
  sessions.end(id);
  expect(calls).toEqual([]);
  expect(sessions.onEnd('not a session', () => calls.push('y'))).toBeUndefined();
  expect(sessions.onEnd(undefined, () => calls.push('z'))).toBeUndefined();
});

test('expiry and eviction close too', () => {
  const now = { ms: 0 };
  const sessions = sessionsAt(now);
  const oldest = sessions.open().sessionId;
  const idle = sessions.open().sessionId;
  const closed: string[] = [];
  sessions.onEnd(oldest, () => closed.push('evicted'));
  sessions.onEnd(idle, () => closed.push('expired'));
  for (let i = 0; i < 15; i++) sessions.open(); // 17 sessions: the oldest goes
  expect(closed).toEqual(['evicted']);
  now.ms = 200_000;
  expect(sessions.get(idle)).toBeUndefined();
  expect(closed).toEqual(['evicted', 'expired']);
});
