import { LuaScript } from './lua-script';

// A cluster lease's compare-and-act scripts: only the holder (its token) renews or releases it.

/** ARGV: lease key, token, ttl ms. 1 when renewed, 0 when the lease is not this token's any more. */
export const RENEW_LEASE = new LuaScript(`
if redis.call('GET', ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('PEXPIRE', ARGV[1], ARGV[3])
return 1
`);

/** ARGV: lease key, token. 1 when released, 0 when it was not this token's (expired, or taken since). */
export const RELEASE_LEASE = new LuaScript(`
if redis.call('GET', ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('DEL', ARGV[1])
return 1
`);
