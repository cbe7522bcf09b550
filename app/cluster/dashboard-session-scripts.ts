import { LuaScript } from './lua-script';

// Dashboard login nonces and sessions as Lua scripts (key names as in redis-keys.ts): a nonce is
// redeemed once (deleted by the script that opens the session), sessions past the cap are
// evicted oldest first in the script that opens a new one, and a session's idle expiry is its
// Redis TTL, restarted by each use.

/** ARGV: prefix, nonce hash, now ms, ttl ms, max nonces. Stores the nonce; the oldest outstanding ones past the cap go. */
export const CREATE_NONCE = new LuaScript(`
local P = ARGV[1]
local index = P .. 'dash-nonces'
redis.call('SET', P .. 'dash-nonce:' .. ARGV[2], '1', 'PX', ARGV[4])
redis.call('ZADD', index, ARGV[3], ARGV[2])
-- Expired ones leave the index first, then the oldest past the cap.
for _, h in ipairs(redis.call('ZRANGE', index, 0, -1)) do
  if redis.call('EXISTS', P .. 'dash-nonce:' .. h) == 0 then redis.call('ZREM', index, h) end
end
local extra = redis.call('ZCARD', index) - tonumber(ARGV[5])
if extra > 0 then
  for _, h in ipairs(redis.call('ZRANGE', index, 0, extra - 1)) do
    redis.call('DEL', P .. 'dash-nonce:' .. h)
    redis.call('ZREM', index, h)
  end
end
return 1
`);

/**
 * Lua: opens session \`h\` (csrf, expiresAt, idle TTL) and evicts the oldest past the cap; returns
 * the evicted hashes. Sessions whose TTL ran out leave the index first (they ended already).
 */
const OPEN = `
local function open(P, h, csrf, now, idle, max)
  local index = P .. 'dash-sessions'
  redis.call('HSET', P .. 'dash-session:' .. h, 'csrf', csrf, 'expiresAt', now + idle)
  redis.call('PEXPIRE', P .. 'dash-session:' .. h, idle)
  local seq = redis.call('INCR', P .. 'dash-session-seq')
  redis.call('ZADD', index, seq, h)
  local ended = {}
  for _, s in ipairs(redis.call('ZRANGE', index, 0, -1)) do
    if redis.call('EXISTS', P .. 'dash-session:' .. s) == 0 then
      redis.call('ZREM', index, s)
      table.insert(ended, s)
    end
  end
  local extra = redis.call('ZCARD', index) - max
  if extra > 0 then
    for _, s in ipairs(redis.call('ZRANGE', index, 0, extra - 1)) do
      redis.call('DEL', P .. 'dash-session:' .. s)
      redis.call('ZREM', index, s)
      table.insert(ended, s)
    end
  end
  return ended
end
`;

/** ARGV: prefix, session hash, csrf, now ms, idle ms, max sessions. Opens a session: the hashes of the sessions that ended. */
export const OPEN_SESSION = new LuaScript(`${OPEN}
return open(ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]))
`);

/**
 * ARGV: prefix, nonce hash, session hash, csrf, now ms, idle ms, max sessions. Burns the nonce
 * and opens the session: {1, ended hashes...}; {0} when the nonce is unknown, used or expired.
 */
export const REDEEM_NONCE = new LuaScript(`${OPEN}
local P = ARGV[1]
if redis.call('EXISTS', P .. 'dash-nonce:' .. ARGV[2]) == 0 then
  redis.call('ZREM', P .. 'dash-nonces', ARGV[2])
  return {0}
end
-- The session first (a write refused when Redis is out of memory), then the nonce goes.
local ended = open(P, ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]))
redis.call('DEL', P .. 'dash-nonce:' .. ARGV[2])
redis.call('ZREM', P .. 'dash-nonces', ARGV[2])
table.insert(ended, 1, 1)
return ended
`);

/** ARGV: prefix, session hash, now ms, idle ms. The CSRF token of a live session (its idle timer restarted), or false. */
export const TOUCH_SESSION = new LuaScript(`
local P = ARGV[1]
local key = P .. 'dash-session:' .. ARGV[2]
local csrf = redis.call('HGET', key, 'csrf')
if not csrf then
  redis.call('ZREM', P .. 'dash-sessions', ARGV[2])
  return false
end
local expires = tonumber(ARGV[3]) + tonumber(ARGV[4])
redis.call('HSET', key, 'expiresAt', expires)
redis.call('PEXPIRE', key, ARGV[4])
return {csrf, tostring(expires)}
`);

/** ARGV: prefix, session hash. Ends one session. */
export const END_SESSION = new LuaScript(`
redis.call('DEL', ARGV[1] .. 'dash-session:' .. ARGV[2])
redis.call('ZREM', ARGV[1] .. 'dash-sessions', ARGV[2])
return 1
`);

/** ARGV: prefix. Ends every session; returns their hashes. */
export const END_ALL = new LuaScript(`
local P = ARGV[1]
local all = redis.call('ZRANGE', P .. 'dash-sessions', 0, -1)
for _, s in ipairs(all) do redis.call('DEL', P .. 'dash-session:' .. s) end
redis.call('DEL', P .. 'dash-sessions')
return all
`);
