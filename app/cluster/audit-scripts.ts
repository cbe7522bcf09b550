import { LuaScript } from './lua-script';

// The cluster's one audit chain on Redis (key names follow redis-keys.ts audit*). The MAC needs
// the audit key, which Redis never sees, so a node computes the next entry's MAC over the head it
// believes current and the script appends it only if that is still the head (compare and append,
// atomic): two nodes can never both link to one entry, and a node that lost the race is told the
// new head and MACs again. The head is the stream's last entry, or the prune anchor, or genesis.
// Fairness: a node whose reply came first would otherwise send its next append first and win
// every round; so the first loser takes the next turn (audit:turn, its token, with a TTL in case
// it dies), other nodes' writes wait while it holds it, and its append ends the turn.

/** Lua: the chain's head as {seq, mac}. */
const HEAD = `
local function head(P)
  local last = redis.call('XREVRANGE', P .. 'audit', '+', '-', 'COUNT', 1)[1]
  if last then return tonumber(string.match(last[1], '^(%d+)')), last[2][10] end
  local a = redis.call('HMGET', P .. 'audit:anchor', 'seq', 'mac')
  if a[1] then return tonumber(a[1]), a[2] end
  return 0, string.rep('0', 64)
end
`;

/**
 * Lua: whose turn it is. gate(P, token) is 'wait' while another node's turn holds (answer {2}),
 * 'go' otherwise; lost(P, token, ttl) takes the next turn if none is held; done(P, token) ends one's own.
 */
const TURN = `
local function gate(P, token)
  local t = redis.call('GET', P .. 'audit:turn')
  if t and t ~= token then return 'wait' end
  return 'go'
end
local function lost(P, token, ttl)
  redis.call('SET', P .. 'audit:turn', token, 'NX', 'PX', ttl)
end
local function done(P, token)
  if redis.call('GET', P .. 'audit:turn') == token then redis.call('DEL', P .. 'audit:turn') end
end
`;

/** Lua: appends entry seq (fields in the order HEAD reads the MAC from: a, e, c, d, m). */
const PUT = `
local function put(P, seq, at, event, actor, details, mac, daily)
  redis.call('XADD', P .. 'audit', seq .. '-0', 'a', at, 'e', event, 'c', actor, 'd', details, 'm', mac)
  redis.call('HSET', P .. 'audit:last-details', event, details)
  if daily ~= '' then
    local was = tonumber(redis.call('HGET', P .. 'audit:daily', daily) or '0')
    if tonumber(at) > was then redis.call('HSET', P .. 'audit:daily', daily, at) end
  end
end
`;

/**
 * ARGV: prefix, head seq, head MAC (what the MAC was computed over), at, event, actor, details,
 * MAC, daily field ('' = none), node token, turn ttl ms. {1, seq} when appended; {0, head seq,
 * head MAC} when the head moved; {2} while another node's turn holds (try again shortly).
 */
export const APPEND_AUDIT = new LuaScript(`${HEAD}${PUT}${TURN}
local P = ARGV[1]
if gate(P, ARGV[10]) == 'wait' then return {2} end
local seq, mac = head(P)
if seq ~= tonumber(ARGV[2]) or mac ~= ARGV[3] then
  lost(P, ARGV[10], ARGV[11])
  return {0, seq, mac}
end
put(P, seq + 1, ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9])
done(P, ARGV[10])
return {1, seq + 1}
`);

/**
 * ARGV: prefix, through seq, its MAC, anchor signature, at, head seq, head MAC, then the
 * `audit_pruned` entry's event, actor, details and MAC, then the first entry's seq (its details
 * count the entries removed from there), node token, turn ttl ms. Moves the anchor to `through`, deletes
 * every entry up to it and appends the entry, at once. {1, entries removed, new seq}; {0, head
 * seq, head MAC} when the head moved; {-1} when entry `through` is not there with that MAC or the
 * first entry is another (another node pruned meanwhile); {2} while another node's turn holds.
 */
export const PRUNE_AUDIT = new LuaScript(`${HEAD}${PUT}${TURN}
local P = ARGV[1]
local through = ARGV[2]
if gate(P, ARGV[13]) == 'wait' then return {2} end
local seq, mac = head(P)
if seq ~= tonumber(ARGV[6]) or mac ~= ARGV[7] then
  lost(P, ARGV[13], ARGV[14])
  return {0, seq, mac}
end
local e = redis.call('XRANGE', P .. 'audit', through .. '-0', through .. '-0')[1]
if not e or e[2][10] ~= ARGV[3] then done(P, ARGV[13]) return {-1} end
local first = redis.call('XRANGE', P .. 'audit', '-', '+', 'COUNT', 1)[1]
if tonumber(string.match(first[1], '^(%d+)')) ~= tonumber(ARGV[12]) then done(P, ARGV[13]) return {-1} end
local removed = tonumber(through) - tonumber(ARGV[12]) + 1
redis.call('HSET', P .. 'audit:anchor', 'seq', through, 'mac', ARGV[3], 'sig', ARGV[4], 'at', ARGV[5])
redis.call('XTRIM', P .. 'audit', 'MINID', (tonumber(through) + 1) .. '-0')
put(P, seq + 1, ARGV[5], ARGV[8], ARGV[9], ARGV[10], ARGV[11], '')
done(P, ARGV[13])
return {1, removed, seq + 1}
`);
