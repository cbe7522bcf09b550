import crypto from 'node:crypto';
import type Redis from 'ioredis';

// A Lua script run by its SHA (EVALSHA), loaded with EVAL the first time a server does not know
// it (a fresh or restarted Redis answers NOSCRIPT). Each script is atomic: Redis runs nothing
// else meanwhile, and under noeviction an out-of-memory refusal comes before its first write.

/** One script, hashed once. */
export class LuaScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = crypto.createHash('sha1').update(source).digest('hex');
  }

  /** Runs it with no declared keys (key names are built from the prefix passed in `args`). */
  async run(redis: Redis, args: (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, 0, ...args);
    } catch (error) {
      if (!/NOSCRIPT/.test((error as Error).message)) throw error;
      return redis.eval(this.source, 0, ...args);
    }
  }
}
