import { LuaScript } from './lua-script';

// The scheduled notifications' writes on Redis as Lua scripts (key names follow redis-keys.ts
// sched:*). Each is atomic, so two nodes never both claim one entry: a claim is a key holding
// the node's token with Redis' TTL, and the entry's place in `sched:due` moves to the claim's end,
// so other nodes look at it again only once a claim that was never finished has expired.

/** Lua: drops one entry and everything that points at it. */
const DROP = `
local function drop(P, id)
  local json = redis.call('HGET', P .. 'sched:entries', id)
  if not json then return 0 end
  local token = cjson.decode(json).tokenId
  redis.call('HDEL', P .. 'sched:entries', id)
  redis.call('ZREM', P .. 'sched:due', id)
  redis.call('ZREM', P .. 'sched:order', id)
  if token ~= nil and token ~= cjson.null then redis.call('SREM', P .. 'sched:token:' .. token, id) end
  redis.call('DEL', P .. 'sched:claim:' .. id)
  return 1
end
`;

/** ARGV: prefix, id, due ms, token id ('' = none), entry JSON. 1 when stored, 0 when the id waits already (the first one stored is kept). */
export const ADD = new LuaScript(`
local P, id = ARGV[1], ARGV[2]
if redis.call('HSETNX', P .. 'sched:entries', id, ARGV[5]) == 0 then return 0 end
redis.call('ZADD', P .. 'sched:due', ARGV[3], id)
redis.call('ZADD', P .. 'sched:order', ARGV[3], id)
if ARGV[4] ~= '' then redis.call('SADD', P .. 'sched:token:' .. ARGV[4], id) end
return 1
`);

/**
 * ARGV: prefix, now ms, limit, claim token, claim ms, then ids this token claimed before and has
 * not removed (a release that failed: retried now, not when the claim ends). Takes those still
 * claimed by this token again, then claims entries due at or before now that no live claim
 * holds, earliest first, up to `limit` in all; returns {id, entry JSON, ...}.
 */
export const CLAIM_DUE = new LuaScript(`
local P, now, limit, token, claimMs = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local out = {}
for i = 6, #ARGV do
  if #out / 2 >= limit then break end
  local id = ARGV[i]
  local json = redis.call('HGET', P .. 'sched:entries', id)
  if json and redis.call('GET', P .. 'sched:claim:' .. id) == token then
    redis.call('PEXPIRE', P .. 'sched:claim:' .. id, claimMs)
    redis.call('ZADD', P .. 'sched:due', now + claimMs, id)
    out[#out + 1] = id
    out[#out + 1] = json
  end
end
if #out / 2 >= limit then return out end
local ids = redis.call('ZRANGEBYSCORE', P .. 'sched:due', '-inf', now, 'LIMIT', 0, limit - #out / 2)
for _, id in ipairs(ids) do
  local json = redis.call('HGET', P .. 'sched:entries', id)
  if not json then
    redis.call('ZREM', P .. 'sched:due', id)
  elseif redis.call('SET', P .. 'sched:claim:' .. id, token, 'NX', 'PX', claimMs) then
    redis.call('ZADD', P .. 'sched:due', now + claimMs, id)
    out[#out + 1] = id
    out[#out + 1] = json
  else
    -- Another node's live claim (a node clock behind Redis' TTL): look again when it ends.
    local ttl = redis.call('PTTL', P .. 'sched:claim:' .. id)
    if ttl > 0 then redis.call('ZADD', P .. 'sched:due', now + ttl, id) end
  end
end
return out
`);

/**
 * ARGV: prefix, id, claim token. 1 when removed, 0 when unknown, -1 when another node's live
 * claim holds it (it is being sent right now: too late to cancel).
 */
export const REMOVE = new LuaScript(`${DROP}
local P, id = ARGV[1], ARGV[2]
local claim = redis.call('GET', P .. 'sched:claim:' .. id)
if claim and claim ~= ARGV[3] then return -1 end
return drop(P, id)
`);

/** ARGV: prefix, token id. Drops every entry the API token published, claimed or not; how many. */
export const REMOVE_BY_TOKEN = new LuaScript(`${DROP}
local P = ARGV[1]
local n = 0
for _, id in ipairs(redis.call('SMEMBERS', P .. 'sched:token:' .. ARGV[2])) do n = n + drop(P, id) end
redis.call('DEL', P .. 'sched:token:' .. ARGV[2])
return n
`);

/** ARGV: prefix, id. Drops one entry whatever claims it (its seal does not open: it can never be sent). */
export const DROP_ONE = new LuaScript(`${DROP}
return drop(ARGV[1], ARGV[2])
`);
