// The errors of cluster mode's Redis layer, in one small leaf so every file can name them.

/** Redis cannot be used as configured: the daemon refuses to start with this message. */
export class RedisRefusedError extends Error {
  constructor(message: string) {
    super(`Redis refused for cluster mode: ${message}`);
    this.name = 'RedisRefusedError';
  }
}

/**
 * A write Redis did not confirm (out of memory under noeviction, unreachable, timed out): the
 * caller must not report success. Named 'CommitError' like the SQLite writer's, which is what
 * ingest recognises (by name, without importing a store) and answers 503 not_accepted.
 */
export class RedisCommitError extends Error {
  constructor(override readonly cause: unknown) {
    super(`commit failed: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'CommitError';
  }
}
