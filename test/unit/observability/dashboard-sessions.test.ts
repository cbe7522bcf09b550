import { DashboardSessions } from '../../../app/dashboard/dashboard-sessions';

// One-time login nonces and dashboard sessions.

describe('DashboardSessions', () => {
  test('a nonce logs in once, within its lifetime; sessions expire when idle', () => {
    let now = 0;
    const sessions = new DashboardSessions({ loginTtlSec: 60, sessionIdleSec: 100, now: () => now });
    const { nonce } = sessions.createNonce();
    const first = sessions.redeem(nonce);
    expect(first).not.toBeNull();
    expect(sessions.redeem(nonce)).toBeNull();
    expect(sessions.get(first!.sessionId)?.csrfToken).toBe(first!.session.csrfToken);
    now = 99_000;
    expect(sessions.get(first!.sessionId)).toBeDefined(); // use restarts the idle timer
    now = 198_000;
    expect(sessions.get(first!.sessionId)).toBeDefined();
    now = 300_000;
    expect(sessions.get(first!.sessionId)).toBeUndefined();

    const late = sessions.createNonce();
    now += 60_000;
    expect(sessions.redeem(late.nonce)).toBeNull();
    expect(sessions.redeem('x'.repeat(43))).toBeNull();
  });

  test('logout ends the session; outstanding nonces are bounded', () => {
    const sessions = new DashboardSessions({ loginTtlSec: 60, sessionIdleSec: 100 });
    const nonces = Array.from({ length: 20 }, () => sessions.createNonce().nonce);
    expect(sessions.redeem(nonces[0])).toBeNull(); // dropped as the oldest
    const s = sessions.redeem(nonces[19])!;
    sessions.end(s.sessionId);
    expect(sessions.get(s.sessionId)).toBeUndefined();
  });
});
