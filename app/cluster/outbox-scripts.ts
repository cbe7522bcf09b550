import { LuaScript } from './lua-script';

// The outbox's writes as Lua scripts, each one atomic: accepting a notification is this one
// script (claim the client id, take the seq, append to the stream, index it), so "accepted"
// means the script replied. Key names follow redis-keys.ts. Under noeviction Redis refuses a
// script's first write when it is out of memory, and a script that has written runs to its end:
// either everything below happened or nothing did. The first write of each is chosen so.

/** Lua: takes a notification's seq out of the owed indexes (dismissed, replaced, or owed to nobody any more). */
export const UNINDEX = `
local function unindex(P, seq)
  local e = redis.call('XRANGE', P .. 'outbox', seq .. '-0', seq .. '-0')[1]
  if not e then return end
  local f = e[2]
  local p, t = f[2], f[4]
  redis.call('ZREM', P .. 'owed:' .. p, seq)
  if t == '' then redis.call('ZREM', P .. 'owed:' .. p .. ':u', seq) else redis.call('ZREM', P .. 'owed:' .. p .. ':t:' .. t, seq) end
  redis.call('ZREM', P .. 'uncached', seq)
end
`;

/**
 * ARGV: prefix, id, retention s, priority, topic ('' = none), replaces ('' = none), uncached
 * ('1'/'0'), owed ('1' = owed to some device; '0' = Cache: no with nobody connected), createdAt,
 * entry JSON. Returns {1, seq} when stored, {0, seq, entry JSON or false, dismissedAt or false}
 * for a client id already stored.
 */
export const APPEND = new LuaScript(`${UNINDEX}
local P, id = ARGV[1], ARGV[2]
local idKey = P .. 'id:' .. id
local existing = redis.call('GET', idKey)
if existing then
  local e = redis.call('XRANGE', P .. 'outbox', existing .. '-0', existing .. '-0')[1]
  return {0, tonumber(existing), e and e[2][6] or false, redis.call('HGET', P .. 'dismissed', existing) or false}
end
local seq = redis.call('INCR', P .. 'seq')
redis.call('SET', idKey, seq, 'EX', ARGV[3])
local p, t = ARGV[4], ARGV[5]
redis.call('XADD', P .. 'outbox', seq .. '-0', 'p', p, 't', t, 'n', ARGV[10])
if ARGV[8] == '1' then
  redis.call('ZADD', P .. 'owed:' .. p, seq, seq)
  if t == '' then redis.call('ZADD', P .. 'owed:' .. p .. ':u', seq, seq) else redis.call('ZADD', P .. 'owed:' .. p .. ':t:' .. t, seq, seq) end
  if ARGV[7] == '1' then redis.call('ZADD', P .. 'uncached', seq, seq) end
end
if ARGV[7] ~= '1' then
  redis.call('ZADD', P .. 'history', seq, seq)
  if t ~= '' then redis.call('ZADD', P .. 'topic:' .. t, seq, seq) end
end
if ARGV[6] ~= '' then
  local r = redis.call('GET', P .. 'id:' .. ARGV[6])
  -- An update supersedes what it replaces: no longer owed to anyone, no dismissal told.
  if r and redis.call('HSETNX', P .. 'dismissed', r, ARGV[9]) == 1 then unindex(P, r) end
end
return {1, seq}
`);

/**
 * ARGV: prefix, id, by device ('' = not a device), at (ISO), at (ms). Returns {seq, dismissal
 * seq}, or false when the id is unknown (or past retention) or already dismissed.
 */
export const DISMISS = new LuaScript(`${UNINDEX}
local P, id = ARGV[1], ARGV[2]
local seq = redis.call('GET', P .. 'id:' .. id)
if not seq then return false end
if redis.call('HSETNX', P .. 'dismissed', seq, ARGV[4]) == 0 then return false end
unindex(P, seq)
local d = redis.call('INCR', P .. 'dismissal-seq')
redis.call('XADD', P .. 'dismissals', d .. '-0', 'id', id, 'by', ARGV[3], 'at', ARGV[5])
return {tonumber(seq), d}
`);
