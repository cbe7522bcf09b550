import { LuaScript } from './lua-script';

// A device's credentials as Lua scripts (key names as in redis-keys.ts), each atomic: a pairing
// code is burnt and the device enrolled in one script, so two phones presenting one code at once
// (on two nodes) pair once; a refresh token is rotated or, on a second use, its family revoked
// and the device's token generation bumped in one script, so a token replayed from two places
// at once cannot rotate twice. Each script's first write is one Redis refuses when out of
// memory (noeviction), so a refused script has written nothing.

/** ms a refresh token is kept after it expires (reuse detection), as SQLite keeps it until housekeeping (credential-repository.ts). */
export const REFRESH_KEEP_MS = 24 * 3600 * 1000;

/** Lua: refresh-token families (insert, revoke on reuse, drop past the cap, drop every one of a device). */
const FAMILIES = `
local KEEP = ${REFRESH_KEEP_MS}
local function insertRefresh(P, h, d, f, now, exp)
  local key = P .. 'refresh:' .. h
  if redis.call('EXISTS', key) == 1 then return false end
  redis.call('HSET', key, 'd', d, 'f', f, 'c', now, 'e', exp)
  redis.call('PEXPIREAT', key, exp + KEEP)
  local fk = P .. 'family:' .. f
  redis.call('SADD', fk, h)
  local ttl = redis.call('PTTL', fk)
  if ttl < 0 or now + ttl < exp + KEEP then redis.call('PEXPIREAT', fk, exp + KEEP) end
  redis.call('ZADD', P .. 'families:' .. d, 'NX', now, f)
  return true
end
local function killFamily(P, d, f, now)
  for _, h in ipairs(redis.call('SMEMBERS', P .. 'family:' .. f)) do
    local k = P .. 'refresh:' .. h
    if redis.call('EXISTS', k) == 1 then
      redis.call('HSETNX', k, 'u', now)
      redis.call('HSET', k, 'e', 0)
    end
  end
  redis.call('ZREM', P .. 'families:' .. d, f)
  redis.call('SADD', P .. 'dead-families:' .. d, f)
end
local function dropFamily(P, f)
  local fk = P .. 'family:' .. f
  for _, h in ipairs(redis.call('SMEMBERS', fk)) do redis.call('DEL', P .. 'refresh:' .. h) end
  redis.call('DEL', fk)
end
local function capFamilies(P, d, max)
  local fams = redis.call('ZREVRANGE', P .. 'families:' .. d, 0, -1)
  for i = max + 1, #fams do
    dropFamily(P, fams[i])
    redis.call('ZREM', P .. 'families:' .. d, fams[i])
  end
end
local function dropDeviceTokens(P, d)
  for _, f in ipairs(redis.call('ZRANGE', P .. 'families:' .. d, 0, -1)) do dropFamily(P, f) end
  for _, f in ipairs(redis.call('SMEMBERS', P .. 'dead-families:' .. d)) do dropFamily(P, f) end
  redis.call('DEL', P .. 'families:' .. d, P .. 'dead-families:' .. d)
end
`;

/** ARGV: prefix, code hash, expires at (ms), offers history ('1'/'0'). The code lives until its TTL or its use. */
export const CREATE_CODE = new LuaScript(`
local key = ARGV[1] .. 'pairing:' .. ARGV[2]
redis.call('HSET', key, 'h', ARGV[4])
redis.call('PEXPIREAT', key, ARGV[3])
return 1
`);

/**
 * ARGV: prefix, code hash, device id, sealed name, platform, pairedAt (ISO), now ms, topics JSON
 * ('' = every topic), historyFromMs ('' = none asked for), refresh hash, family, refresh expires
 * ms, max sessions. Burns the code and enrols the device: {pairedSeq, history offered 1/0}, or
 * false when the code is unknown, used or expired.
 */
export const PAIR = new LuaScript(`${FAMILIES}
local P, d, now = ARGV[1], ARGV[3], tonumber(ARGV[7])
local code = P .. 'pairing:' .. ARGV[2]
local offers = redis.call('HGET', code, 'h')
if not offers then return false end
local dk = P .. 'device:' .. d
if redis.call('EXISTS', dk) == 1 then return redis.error_reply('device ' .. d .. ' exists') end
local pairedSeq = tonumber(redis.call('GET', P .. 'seq') or '0')
redis.call('HSET', dk, 'name', ARGV[4], 'platform', ARGV[5], 'pairedAt', ARGV[6], 'pairedSeq', pairedSeq, 'tokenGen', 1)
redis.call('DEL', code)
if ARGV[8] ~= '' then redis.call('HSET', dk, 'topics', ARGV[8]) end
local history = offers == '1' and ARGV[9] ~= ''
if history then redis.call('HSET', dk, 'historyFromMs', ARGV[9]) end
-- Listed in pairing order: after every device listed, even one paired in the same ms.
local last = redis.call('ZRANGE', P .. 'devices', -1, -1, 'WITHSCORES')
redis.call('ZADD', P .. 'devices', last[2] and math.max(now, tonumber(last[2]) + 1) or now, d)
-- Dismissals made before it paired are not its business (as SQLite's progress row starts).
redis.call('HSET', P .. 'progress:' .. d, 'dc', redis.call('GET', P .. 'dismissal-seq') or '0')
if not insertRefresh(P, ARGV[10], d, ARGV[11], now, tonumber(ARGV[12])) then return redis.error_reply('refresh token hash exists') end
capFamilies(P, d, tonumber(ARGV[13]))
return {pairedSeq, history and 1 or 0}
`);

/**
 * ARGV: prefix, refresh hash, next hash, now ms, next expires ms. {'rotated', device}, {'reused',
 * device} (its family revoked, the device's token generation bumped), or {'invalid'}.
 */
export const ROTATE = new LuaScript(`${FAMILIES}
local P, now = ARGV[1], tonumber(ARGV[4])
local key = P .. 'refresh:' .. ARGV[2]
local r = redis.call('HMGET', key, 'd', 'f', 'e', 'u')
if not r[1] then return {'invalid'} end
local dk = P .. 'device:' .. r[1]
local dev = redis.call('HMGET', dk, 'pairedSeq', 'revokedAt')
if not dev[1] or dev[2] then return {'invalid'} end
if r[4] then
  killFamily(P, r[1], r[2], now)
  redis.call('HINCRBY', dk, 'tokenGen', 1)
  return {'reused', r[1]}
end
if tonumber(r[3]) <= now then return {'invalid'} end
redis.call('HSET', key, 'u', now)
if not insertRefresh(P, ARGV[3], r[1], r[2], now, tonumber(ARGV[5])) then return redis.error_reply('refresh token hash exists') end
return {'rotated', r[1]}
`);

/** ARGV: prefix, device, revokedAt (ISO). Revokes it, its access tokens (generation) and every refresh token: 1, or 0 when unknown or revoked. */
export const REVOKE_DEVICE = new LuaScript(`${FAMILIES}
local P, d = ARGV[1], ARGV[2]
local dk = P .. 'device:' .. d
local dev = redis.call('HMGET', dk, 'pairedSeq', 'revokedAt')
if not dev[1] or dev[2] then return 0 end
redis.call('HSET', dk, 'revokedAt', ARGV[3])
redis.call('HINCRBY', dk, 'tokenGen', 1)
redis.call('ZREM', P .. 'devices', d)
dropDeviceTokens(P, d)
return 1
`);

/** ARGV: prefix, device, field, '1' to set (to ARGV[5]) or '0' to delete. Only on a device not revoked: 1, else 0. */
export const SET_DEVICE_FIELD = new LuaScript(`
local dk = ARGV[1] .. 'device:' .. ARGV[2]
local dev = redis.call('HMGET', dk, 'pairedSeq', 'revokedAt')
if not dev[1] or dev[2] then return 0 end
if ARGV[4] == '1' then redis.call('HSET', dk, ARGV[3], ARGV[5]) else redis.call('HDEL', dk, ARGV[3]) end
return 1
`);

/** ARGV: prefix, device. The history owed at pairing, once: {fromMs, pairedSeq, topics JSON or ''}, or false. */
export const TAKE_HISTORY = new LuaScript(`
local dk = ARGV[1] .. 'device:' .. ARGV[2]
local v = redis.call('HMGET', dk, 'historyFromMs', 'pairedSeq', 'topics', 'revokedAt')
if not v[1] or not v[2] or v[4] then return false end
redis.call('HDEL', dk, 'historyFromMs')
return {v[1], v[2], v[3] or ''}
`);
