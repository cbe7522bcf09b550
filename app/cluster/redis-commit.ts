import { RedisCommitError } from './redis-errors';

// Writes of the account ports (devices, tokens, credentials, sessions): a write Redis did not
// confirm (out of memory under noeviction, unreachable, timed out) rejects as a CommitError, as
// a failed SQLite group commit does, so callers answer 503 instead of reporting success.

/** The reply of a write, or a CommitError carrying why Redis did not confirm it. */
export function committed<T>(reply: Promise<T>): Promise<T> {
  return reply.catch((error: unknown) => {
    throw new RedisCommitError(error);
  });
}
