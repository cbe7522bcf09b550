import crypto from 'node:crypto';
import type Redis from 'ioredis';
import { LuaScript } from './lua-script';
import { committed } from './redis-commit';
import type { RedisKeys } from './redis-keys';

// One dashboard login per TOTP step for the whole cluster (auth/totp-steps.ts FileTotpSteps keeps
// it in a file per node: a code used on node A could log in again on node B). The claim is one
// script, so two logins with one code on two nodes at once cannot both win. Unlike TotpSteps'
// synchronous claim it answers as a promise: the dashboard login awaits it (wiring).

/** ARGV: prefix, secret fingerprint, step. 1 when the step is later than the last used with that secret (it is then the last), else 0. */
const CLAIM = new LuaScript(`
local key = ARGV[1] .. 'totp-step'
local last = redis.call('GET', key)
if last then
  local fp, step = string.match(last, '^(%S+) (%d+)$')
  if fp == ARGV[2] and tonumber(ARGV[3]) <= tonumber(step) then return 0 end
end
redis.call('SET', key, ARGV[2] .. ' ' .. ARGV[3])
return 1
`);

/** Which secret a step was used with (a hash of it, as FileTotpSteps keeps): a new secret starts afresh. */
function fingerprint(secret: string): string {
  return crypto.createHash('sha256').update(`beep-totp-step:${secret}`).digest('hex').slice(0, 32);
}

/** The last used TOTP step, shared by every node. */
export class RedisTotpSteps {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /** True when `step` is later than the last one used with `secret`; it is then the last one. */
  async claim(secret: string, step: number): Promise<boolean> {
    return Number(await committed(CLAIM.run(this.redis, [this.keys.prefix, fingerprint(secret), step]))) === 1;
  }
}
