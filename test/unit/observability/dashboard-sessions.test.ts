import { DashboardSessions } from '../../../app/dashboard/dashboard-sessions';

// One-time login nonces and dashboard sessions.

describe('DashboardSessions', () => {
  test('a nonce logs in once, within its lifetime; sessions expire when idle', async () => {
    let now = 0;
    const sessions = new DashboardSessions({ loginTtlSec: 60, sessionIdleSec: 100, now: () => now });
    const { nonce } = await sessions.createNonce();
    const first = await sessions.redeem(nonce);
    expect(first).not.toBeNull();
    expect(await sessions.redeem(nonce)).toBeNull();
    expect((await sessions.get(first!.sessionId))?.csrfToken).toBe(first!.session.csrfToken);
    now = 99_000;
    expect(await sessions.get(first!.sessionId)).toBeDefined(); // use restarts the idle timer
    now = 198_000;
    expect(await sessions.get(first!.sessionId)).toBeDefined();
    now = 300_000;
    expect(await sessions.get(first!.sessionId)).toBeUndefined();

    const late = await sessions.createNonce();
    now += 60_000;
    expect(await sessions.redeem(late.nonce)).toBeNull();
    expect(await sessions.redeem('x'.repeat(43))).toBeNull();
  });

  test('logout ends the session; outstanding nonces are bounded', async () => {
    const sessions = new DashboardSessions({ loginTtlSec: 60, sessionIdleSec: 100 });
    const nonces: string[] = [];
    for (let i = 0; i < 20; i++) nonces.push((await sessions.createNonce()).nonce);
    expect(await sessions.redeem(nonces[0])).toBeNull(); // dropped as the oldest
    const s = (await sessions.redeem(nonces[19]))!;
    await sessions.end(s.sessionId);
    expect(await sessions.get(s.sessionId)).toBeUndefined();
  });
});
