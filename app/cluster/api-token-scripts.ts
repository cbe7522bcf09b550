import { LuaScript } from './lua-script';

// ntfy / Gotify API tokens as Lua scripts (key names as in redis-keys.ts): a child is created only
// while its parent lives, and revoking a token revokes every client (subscribe token) created
// under it, at any depth, in the same script (store/api-token-repository.ts LINEAGE on SQLite).

/**
 * ARGV: prefix, id (the counter + 1 when the caller read it), hash, fields JSON (strings; a null
 * field left out), parent id ('' = none). 1 when stored under that id, 0 when the parent is unknown
 * or revoked (no id spent, as SQLite's AUTOINCREMENT), -1 when another insert took the id first
 * (read the counter again and retry).
 */
export const INSERT_TOKEN = new LuaScript(`
local P, id, h, parent = ARGV[1], ARGV[2], ARGV[3], ARGV[5]
if tonumber(redis.call('GET', P .. 'api-token-seq') or '0') + 1 ~= tonumber(id) then return -1 end
if parent ~= '' then
  local pk = P .. 'api-token:' .. parent
  if redis.call('EXISTS', pk) == 0 or redis.call('HEXISTS', pk, 'revokedMs') == 1 then return 0 end
end
local hk = P .. 'api-token-hash:' .. h
if redis.call('EXISTS', hk) == 1 then return redis.error_reply('an API token with this hash exists') end
local fields = cjson.decode(ARGV[4])
local flat = {'hash', h}
for k, v in pairs(fields) do
  table.insert(flat, k)
  table.insert(flat, v)
end
redis.call('HSET', P .. 'api-token:' .. id, unpack(flat))
redis.call('SET', P .. 'api-token-seq', id)
redis.call('SET', hk, id)
redis.call('ZADD', P .. 'api-tokens', id, id)
if parent ~= '' and fields.kind == 'subscribe' then redis.call('SADD', P .. 'api-token-children:' .. parent, id) end
return 1
`);

/** ARGV: prefix, hash. The live token's id and its hash fields flattened ({id, k1, v1, ...}), or false. */
export const TOKEN_BY_HASH = new LuaScript(`
local P = ARGV[1]
local id = redis.call('GET', P .. 'api-token-hash:' .. ARGV[2])
if not id then return false end
local key = P .. 'api-token:' .. id
if redis.call('HEXISTS', key, 'revokedMs') == 1 then return false end
local out = redis.call('HGETALL', key)
if #out == 0 then return false end
table.insert(out, 1, id)
return out
`);

/** ARGV: prefix, id, name, description, default priority ('' = none). 1, or 0 when unknown or revoked. */
export const UPDATE_APPLICATION = new LuaScript(`
local key = ARGV[1] .. 'api-token:' .. ARGV[2]
if redis.call('EXISTS', key) == 0 or redis.call('HEXISTS', key, 'revokedMs') == 1 then return 0 end
redis.call('HSET', key, 'name', ARGV[3], 'description', ARGV[4])
if ARGV[5] == '' then redis.call('HDEL', key, 'defaultPriority') else redis.call('HSET', key, 'defaultPriority', ARGV[5]) end
return 1
`);

/** ARGV: prefix, id, now ms. The ids revoked now (the token and the clients under it, breadth first); empty when unknown or already revoked. */
export const REVOKE_TOKEN = new LuaScript(`
local P, id, now = ARGV[1], ARGV[2], ARGV[3]
local key = P .. 'api-token:' .. id
if redis.call('EXISTS', key) == 0 or redis.call('HEXISTS', key, 'revokedMs') == 1 then return {} end
local out, queue, seen = {}, {id}, {[id] = true}
while #queue > 0 do
  local t = table.remove(queue, 1)
  local k = P .. 'api-token:' .. t
  if redis.call('EXISTS', k) == 1 and redis.call('HEXISTS', k, 'revokedMs') == 0 then
    redis.call('HSET', k, 'revokedMs', now)
    redis.call('ZREM', P .. 'api-tokens', t)
    local h = redis.call('HGET', k, 'hash')
    if h then redis.call('DEL', P .. 'api-token-hash:' .. h) end
    table.insert(out, tonumber(t))
  end
  -- Through revoked clients too: what they created goes with the line.
  for _, c in ipairs(redis.call('SMEMBERS', P .. 'api-token-children:' .. t)) do
    if not seen[c] then
      seen[c] = true
      table.insert(queue, c)
    end
  end
end
return out
`);

/** ARGV: prefix, id, ms. Records the last use of a token that exists. */
export const TOUCH_TOKEN = new LuaScript(`
local key = ARGV[1] .. 'api-token:' .. ARGV[2]
if redis.call('EXISTS', key) == 1 then redis.call('HSET', key, 'lastUsedMs', ARGV[3]) end
return 1
`);
