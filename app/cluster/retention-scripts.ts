import { LuaScript } from './lua-script';

// Retention's deletions on Redis as Lua scripts (key names follow redis-keys.ts). The caller
// picks a batch of the OLDEST outbox entries (or dismissals) that retention lets go; the script
// drops them from every index and trims the stream below the batch's end, at once, so no index
// ever names an entry that is gone. Run twice (two nodes sweeping at once), it changes nothing more.

/**
 * ARGV: prefix, trim-below seq, then per entry: seq, priority, topic ('' = none), public id.
 * Every entry below the trim-below seq must be in the list (the caller read them from the start).
 */
export const TRIM_OUTBOX = new LuaScript(`
local P = ARGV[1]
for i = 3, #ARGV, 4 do
  local s, p, t, id = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  redis.call('ZREM', P .. 'history', s)
  redis.call('ZREM', P .. 'owed:' .. p, s)
  redis.call('ZREM', P .. 'uncached', s)
  if t == '' then
    redis.call('ZREM', P .. 'owed:' .. p .. ':u', s)
  else
    redis.call('ZREM', P .. 'topic:' .. t, s)
    redis.call('ZREM', P .. 'owed:' .. p .. ':t:' .. t, s)
  end
  redis.call('HDEL', P .. 'dismissed', s)
  if redis.call('GET', P .. 'id:' .. id) == s then redis.call('DEL', P .. 'id:' .. id) end
end
return redis.call('XTRIM', P .. 'outbox', 'MINID', ARGV[2] .. '-0')
`);

/** ARGV: prefix, trim-below dismissal seq. */
export const TRIM_DISMISSALS = new LuaScript(`
return redis.call('XTRIM', ARGV[1] .. 'dismissals', 'MINID', ARGV[2] .. '-0')
`);
