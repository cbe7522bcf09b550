import crypto from 'node:crypto';
import { resealAccounts } from '../../app/cluster/account-reseal';
import { RedisAdminCredentials } from '../../app/cluster/redis-admin-credentials';
import { RedisDeviceAccounts } from '../../app/cluster/redis-device-accounts';
import { RedisDeviceAdmin } from '../../app/cluster/redis-device-admin';
import { FieldCipher, newDataKey } from '../../app/crypto/field-cipher';
import { RedisServer } from '../helpers/redis-server';
import { connectTo } from './fixtures';

// A data-key rotation on Redis moves the account values sealed at rest (device names, revoked
// devices' too, and the TOTP secret) under the new key, as the SQLite rotation's devices and
// admin phases do; every value still opens; a second pass moves nothing; the old key can go.

const hash = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

test('device names and the TOTP secret move to the new key; a second pass finds nothing', async () => {
  const server = await RedisServer.start();
  const { conn, keys } = await connectTo(server);
  try {
    const master = crypto.randomBytes(32);
    const first = newDataKey(master);
    const cipher = new FieldCipher();
    cipher.load(master, [first]);
    const accounts = new RedisDeviceAccounts(conn.redis, keys, cipher, 5);
    const admin = new RedisDeviceAdmin(conn.redis, keys, cipher);
    const credentials = new RedisAdminCredentials(conn.redis, keys, cipher);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      await accounts.createPairingCode(hash(`c${i}`), Date.now() + 60_000, false);
      const d = (await accounts.pairDevice(hash(`c${i}`), { id: `d${i}`, name: `phone ${i}`, platform: 'ios', refreshHash: hash(`r${i}`), family: `f${i}`, refreshExpiresMs: Date.now() + 60_000 }))!;
      ids.push(d.id);
    }
    await admin.revokeDevice('d4');
    await credentials.setAdminCredentials('$2b$hash', 'JBSWY3DPEHPK3PXP');

    const second = newDataKey(master);
    cipher.add(master, second);
    cipher.use(second.id);
    await admin.renameDevice('d0', 'renamed'); // already under the new key
    expect(await resealAccounts(conn.redis, keys, cipher)).toBe(5); // d1..d4 and the TOTP secret
    for (const id of ids) expect(cipher.keyIdOf((await conn.redis.hget(keys.device(id), 'name'))!)).toBe(second.id);
    expect(cipher.keyIdOf((await conn.redis.hget(keys.adminCredentials, 'totpSecret'))!)).toBe(second.id);
    expect(await resealAccounts(conn.redis, keys, cipher)).toBe(0);

    cipher.drop(first.id);
    expect((await accounts.device('d4'))!.name).toBe('phone 4');
    expect(await admin.nameOf('d0')).toBe('renamed');
    expect((await credentials.adminCredentials())!.totpSecret).toBe('JBSWY3DPEHPK3PXP');
  } finally {
    await conn.close();
    await server.stop();
  }
});
