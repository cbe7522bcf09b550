import type Redis from 'ioredis';

// Polling helpers for the cluster tests of history, schedule, audit and trust: generous
// deadlines, no fixed sleeps before a positive assertion.

/** Resolves once `redis` answers a PING again (after a redis-server restart, ioredis reconnects by itself). */
export async function untilRedisAnswers(redis: Redis, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await redis.ping()) === 'PONG') return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Resolves once the wall clock has moved past `ms` (two createdAt values then differ). */
export async function clockPast(ms: number): Promise<void> {
  while (Date.now() <= ms) await new Promise((r) => setTimeout(r, 2));
}
