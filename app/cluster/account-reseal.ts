import type Redis from 'ioredis';
import { aadOf, type FieldSealer } from '../store/rows';
import { LuaScript } from './lua-script';
import type { RedisKeys } from './redis-keys';

// The account values sealed at rest on Redis, re-sealed under the current data key (what the
// SQLite key rotation's 'devices' and 'admin' phases do, store/key-rotation.ts): every device's
// name (revoked ones too) and the dashboard's TOTP secret. Each value is replaced only if it is
// still the one read (a rename meanwhile already sealed under the current key), so it runs
// online next to every node's writes; run again, it finds nothing left to move.

/** ARGV: key, field, the value read, the value sealed anew. Replaces it if unchanged: 1, else 0. */
const SWAP = new LuaScript(`
if redis.call('HGET', ARGV[1], ARGV[2]) ~= ARGV[3] then return 0 end
redis.call('HSET', ARGV[1], ARGV[2], ARGV[4])
return 1
`);

/** device hashes read per SCAN step. */
const SCAN_COUNT = 200;

/** A glob pattern matching `text` literally. */
function literal(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** Re-seals device names and the TOTP secret not under the current key; returns how many were moved. */
export async function resealAccounts(redis: Redis, keys: RedisKeys, sealer: FieldSealer): Promise<number> {
  const target = sealer.currentKeyId();
  let moved = 0;
  const swap = async (key: string, field: string, value: string | null, aad: string) => {
    if (value === null || sealer.keyIdOf(value) === target) return;
    moved += Number(await SWAP.run(redis, [key, field, value, sealer.seal(sealer.open(value, aad), aad)]));
  };
  const prefix = keys.device('');
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${literal(prefix)}*`, 'COUNT', SCAN_COUNT);
    cursor = next;
    for (const key of found) {
      const id = key.slice(prefix.length);
      await swap(key, 'name', await redis.hget(key, 'name'), aadOf('devices', 'name', id));
    }
  } while (cursor !== '0');
  const credentials = keys.adminCredentials;
  await swap(credentials, 'totpSecret', await redis.hget(credentials, 'totpSecret'), aadOf('admin_credentials', 'totp_secret', '1'));
  return moved;
}
