import { base32Encode } from '../../app/auth/totp';
import { RedisAdminCredentials } from '../../app/cluster/redis-admin-credentials';
import { RedisTotpSteps } from '../../app/cluster/redis-totp-steps';
import { realSealer, useRedis } from './fixtures';

// The dashboard password and TOTP secret on Redis (store/admin-credential-store.ts on SQLite):
// none until set, set and replaced whole (a null secret removes the second factor), the TOTP
// secret sealed with SQLite's associated data; and the last used TOTP step for the cluster
// (auth/totp-steps.ts per node), case for case with test/unit/auth/totp-steps.test.ts. Plus:
// what one node sets another reads at once, one step claimed from two connections at once logs
// in once, and both survive a redis-server restart.

const fixture = useRedis({ config: { appendfsync: 'always' } });
const sealer = realSealer();
const b32 = base32Encode(Buffer.from('12345678901234567890'));

test('none until set; set on one node, read on another; the TOTP secret sealed; a null secret removes it', async () => {
  const a = new RedisAdminCredentials(fixture.redis, fixture.keys, sealer);
  const b = new RedisAdminCredentials(fixture.other, fixture.keys, sealer);
  expect(await b.adminCredentials()).toBeUndefined();
  await a.setAdminCredentials('$2b$12$hash', b32);
  expect(await b.adminCredentials()).toEqual({ passwordHash: '$2b$12$hash', totpSecret: b32 });
  const stored = await fixture.redis.hgetall(fixture.keys.adminCredentials);
  expect(JSON.stringify(stored)).not.toContain(b32);
  // Sealed for this field: the same seal under another associated data does not open.
  expect(() => sealer.open(stored.totpSecret, 'devices.name.1')).toThrow();
  await b.setAdminCredentials('$2b$12$other', null);
  expect(await a.adminCredentials()).toEqual({ passwordHash: '$2b$12$other', totpSecret: null });
});

test('a TOTP step is claimed once, an older one never after it; a new secret starts afresh; only a fingerprint is stored', async () => {
  const steps = new RedisTotpSteps(fixture.redis, fixture.keys);
  expect(await steps.claim(b32, 100)).toBe(true);
  expect(await steps.claim(b32, 100)).toBe(false);
  expect(await steps.claim(b32, 99)).toBe(false);
  expect(await steps.claim(b32, 101)).toBe(true);
  expect(await fixture.redis.get(fixture.keys.totpStep)).not.toContain(b32);
  const otherNode = new RedisTotpSteps(fixture.other, fixture.keys);
  expect(await otherNode.claim(b32, 101)).toBe(false); // used on the first node
  expect(await otherNode.claim('JBSWY3DPEHPK3PXP', 5)).toBe(true);
});

test('one step claimed from two connections at once logs in once', async () => {
  const a = new RedisTotpSteps(fixture.redis, fixture.keys);
  const b = new RedisTotpSteps(fixture.other, fixture.keys);
  for (let step = 1; step <= 30; step++) {
    const wins = await Promise.all([a.claim(b32, step), b.claim(b32, step)]);
    expect(wins.filter(Boolean)).toHaveLength(1);
  }
});

test('credentials and the last step survive a redis-server restart (appendonly, fsync always)', async () => {
  const creds = new RedisAdminCredentials(fixture.redis, fixture.keys, sealer);
  const steps = new RedisTotpSteps(fixture.redis, fixture.keys);
  await creds.setAdminCredentials('$2b$12$kept', b32);
  await steps.claim(b32, 500);
  await fixture.server.kill9();
  await fixture.server.restart();
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && (await fixture.redis.ping().catch(() => null)) !== 'PONG') await new Promise((r) => setTimeout(r, 100));
  expect(await creds.adminCredentials()).toEqual({ passwordHash: '$2b$12$kept', totpSecret: b32 });
  expect(await steps.claim(b32, 500)).toBe(false);
});
