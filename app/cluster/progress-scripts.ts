import { UNINDEX } from './outbox-scripts';
import { LuaScript } from './lua-script';

// Device progress, leases and backlog reads as Lua scripts (key names as in redis-keys.ts).
// A progress write is fenced in the same script that makes it: it lands only while the lease it
// was taken under is still the device's lease, so a node that lost the device (another node
// acquired it, or its lease expired in Redis while it was paused) cannot overwrite newer progress.

/** ARGV: prefix, device, node, ttl ms. Bumps the epoch and takes the lease; returns the epoch. */
export const ACQUIRE = new LuaScript(`
local P, d = ARGV[1], ARGV[2]
local e = redis.call('INCR', P .. 'epoch:' .. d)
redis.call('SET', P .. 'lease:' .. d, e .. ' ' .. ARGV[3], 'PX', ARGV[4])
return e
`);

/** ARGV: prefix, device, lease value, ttl ms. Extends the lease if it is still this one: 1, else 0. */
export const RENEW = new LuaScript(`
local key = ARGV[1] .. 'lease:' .. ARGV[2]
if redis.call('GET', key) ~= ARGV[3] then return 0 end
redis.call('PEXPIRE', key, ARGV[4])
return 1
`);

/** ARGV: prefix, device, lease value. Deletes the lease if it is still this one. */
export const RELEASE = new LuaScript(`
local key = ARGV[1] .. 'lease:' .. ARGV[2]
if redis.call('GET', key) == ARGV[3] then redis.call('DEL', key) end
return 1
`);

/**
 * Whether device \`d\` has settled uncached seq \`seq\` of priority \`p\` by its stored progress
 * (or is revoked or gone: then it is owed nothing).
 */
const SETTLED = `
local function settled(P, d, p, seq)
  local dev = redis.call('HMGET', P .. 'device:' .. d, 'pairedSeq', 'revokedAt')
  if not dev[1] or dev[2] then return true end
  local prog = redis.call('HMGET', P .. 'progress:' .. d, 'w' .. p, 'a' .. p)
  if tonumber(prog[1] or dev[1]) >= seq then return true end
  for _, s in ipairs(cjson.decode(prog[2] or '[]')) do if s == seq then return true end end
  return false
end
`;

/**
 * ARGV: prefix, writes JSON [{d, l (lease value), p: [[priority, watermark, ackedAbove JSON]], c
 * (cursor or absent)}]. A device that is gone is passed over; one whose lease is not \`l\` any
 * more is dropped and returned. Then purges the uncached notifications nobody is owed any more.
 */
export const SAVE_PROGRESS = new LuaScript(`${UNINDEX}${SETTLED}
local P = ARGV[1]
local fenced = {}
for _, w in ipairs(cjson.decode(ARGV[2])) do
  if redis.call('EXISTS', P .. 'device:' .. w.d) == 1 then
    if redis.call('GET', P .. 'lease:' .. w.d) ~= w.l then
      table.insert(fenced, w.d)
    else
      local key = P .. 'progress:' .. w.d
      for _, p in ipairs(w.p) do redis.call('HSET', key, 'w' .. p[1], p[2], 'a' .. p[1], p[3]) end
      if w.c and tonumber(w.c) > tonumber(redis.call('HGET', key, 'dc') or '0') then redis.call('HSET', key, 'dc', w.c) end
    end
  end
end
for _, s in ipairs(redis.call('ZRANGE', P .. 'uncached', 0, -1)) do
  local seq = tonumber(s)
  local e = redis.call('XRANGE', P .. 'outbox', s .. '-0', s .. '-0')[1]
  local owedTo = e and cjson.decode(e[2][6]).owedTo or {}
  local all = true
  for _, d in ipairs(owedTo) do
    if not settled(P, d, e[2][2], seq) then all = false break end
  end
  if all then unindex(P, s) end
end
return fenced
`);

/**
 * ARGV: prefix, limit, then priority, afterSeq pairs. For each arm, up to \`limit\` owed seqs of
 * its priority above afterSeq, oldest first: a flat list of seq, priority, entry JSON.
 */
export const PAGE = new LuaScript(`
local P, limit = ARGV[1], ARGV[2]
local out = {}
for i = 3, #ARGV, 2 do
  local p = ARGV[i]
  for _, s in ipairs(redis.call('ZRANGEBYSCORE', P .. 'owed:' .. p, '(' .. ARGV[i + 1], '+inf', 'LIMIT', 0, limit)) do
    local e = redis.call('XRANGE', P .. 'outbox', s .. '-0', s .. '-0')[1]
    if e then
      table.insert(out, s)
      table.insert(out, p)
      table.insert(out, e[2][6])
    end
  end
end
return out
`);

/**
 * ARGV: prefix, topics JSON (or '' = every topic), then per priority: priority, watermark, ackedAbove
 * JSON. Owed = undismissed above the watermark, not acked above it, untopiced or of the topics.
 */
export const COUNT_OWED = new LuaScript(`
local P = ARGV[1]
local topics = ARGV[2] ~= '' and cjson.decode(ARGV[2]) or nil
local n = 0
for i = 3, #ARGV, 3 do
  local p, wm = ARGV[i], ARGV[i + 1]
  local sets = {}
  if topics then
    table.insert(sets, P .. 'owed:' .. p .. ':u')
    for _, t in ipairs(topics) do table.insert(sets, P .. 'owed:' .. p .. ':t:' .. t) end
  else
    table.insert(sets, P .. 'owed:' .. p)
  end
  for _, key in ipairs(sets) do
    n = n + redis.call('ZCOUNT', key, '(' .. wm, '+inf')
    for _, s in ipairs(cjson.decode(ARGV[i + 2])) do
      if s > tonumber(wm) and redis.call('ZSCORE', key, s) then n = n - 1 end
    end
  end
end
return n
`);

/** ARGV: prefix, device, ISO time. Records when a device was last seen, if it still exists. */
export const TOUCH = new LuaScript(`
local key = ARGV[1] .. 'device:' .. ARGV[2]
if redis.call('EXISTS', key) == 1 then redis.call('HSET', key, 'lastSeenAt', ARGV[3]) end
return 1
`);
