import type * as Flexible from 'rate-limiter-flexible';

// rate-limiter-flexible's index requires every store it ships (Redis, Mongo, MySQL, Postgres,
// Dynamo, Etcd, Prisma, …: 36 files, ~1.8 MB of heap held for the daemon's life); the embedded
// daemon uses only the memory store and the result class, so those two are required from their
// own files (the package has no `exports` map: its lib/ paths are what its index requires).
// Cluster mode (composition/cluster.ts, loaded only then) takes the Redis store from the index;
// both see the same classes, since require caches by file.

/** The in-memory store: every embedded limiter and budget. */
export const RateLimiterMemory = require('rate-limiter-flexible/lib/RateLimiterMemory') as typeof Flexible.RateLimiterMemory;
/** What a store throws when a budget is spent (checked with instanceof). */
export const RateLimiterRes = require('rate-limiter-flexible/lib/RateLimiterRes') as typeof Flexible.RateLimiterRes;
/** An instance of RateLimiterRes. */
export type RateLimiterRes = Flexible.RateLimiterRes;
