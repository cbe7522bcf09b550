import { memoryLimiters } from '../../../app/auth/limiter-factory';
import { GotifyLogin } from '../../../app/compat/gotify/gotify-login';
import type { Caller } from '../../../app/compat/api-tokens';

// The Gotify Basic login's order of checks: with TOTP on it answers before bcrypt and before
// the budget; otherwise a point is reserved before bcrypt runs and refunded on success.

const caller: Caller = { ip: '192.0.2.1', protocol: 'gotify', listener: 'gateway' };
const header = (password: string) => `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;

function login(totpSecret: string | null, budget = 2) {
  const verified: string[] = [];
  const events: string[] = [];
  const failures = memoryLimiters().failures('gotify', budget, 60);
  const reserve = jest.spyOn(failures, 'reserve');
  const gotify = new GotifyLogin({
    credentials: async () => ({ passwordHash: 'hash', totpSecret }),
    verify: async (password) => {
      verified.push(password);
      await new Promise((r) => setTimeout(r, 5));
      return password === 'right';
    },
    failures,
    audit: { record: (event, fields) => events.push(`${event}:${String(fields.reason ?? '')}`) },
    onLimited: () => events.push('limited'),
  });
  return { gotify, verified, events, reserve };
}

test('with TOTP on: 403 for a right and a wrong password alike, no bcrypt, no budget', async () => {
  const { gotify, verified, reserve } = login('SECRET');
  for (const password of ['right', 'wrong', 'wrong', 'wrong']) {
    await expect(gotify.check(header(password), caller)).rejects.toMatchObject({ code: 'gotify_totp_unsupported', status: 403 });
  }
  expect(verified).toEqual([]);
  expect(reserve).not.toHaveBeenCalled();
});

test('without TOTP: concurrent wrong passwords get at most the budget bcrypt-checked; a right one costs nothing', async () => {
  const { gotify, verified, events } = login(null, 2);
  await gotify.check(header('right'), caller);
  await gotify.check(header('right'), caller);
  const outcomes = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => gotify.check(header(`wrong ${i}`), caller)));
  const codes = outcomes.map((o) => (o.status === 'rejected' ? (o.reason as { code: string }).code : 'ok'));
  expect(codes.filter((c) => c === 'invalid_credentials')).toHaveLength(2);
  expect(codes.filter((c) => c === 'rate_limited')).toHaveLength(8);
  expect(verified.filter((p) => p !== 'right')).toHaveLength(2);
  expect(events.filter((e) => e === 'limited')).toHaveLength(8);
});
