import { AsyncLocalStorage } from 'node:async_hooks';
import crypto from 'node:crypto';

// The id of the request or event being handled, carried through every await without being
// passed by hand, so each log line of one request names it (AsyncLocalStorage).

export interface LogScope {
  requestId?: string;
  eventId?: string;
}

/**
 * One per daemon (built in main.ts, handed to the logger and the transports).
 *
 *   context.run({ requestId }, () => next());   // in a middleware
 *   logger.info('paired');                      // the line carries requestId
 */
export class LogContext {
  private readonly storage = new AsyncLocalStorage<LogScope>();
  readonly ids = new IdSource();

  run<T>(scope: LogScope, fn: () => T): T {
    return this.storage.run(scope, fn);
  }

  /** Runs `fn` under a fresh event id (socket events, timers). */
  event<T>(fn: () => T): T {
    return this.storage.run({ eventId: this.ids.next() }, fn);
  }

  current(): LogScope | undefined {
    return this.storage.getStore();
  }
}

/** Ids drawn per batch: one call to the random source serves this many requests. */
const IDS_PER_DRAW = 512;

/** Request and event ids, 16 hex characters: unique enough to grep one request out of a month of logs. */
export class IdSource {
  private pool = Buffer.alloc(0);
  private used = 0;

  next(): string {
    if (this.used >= this.pool.length) {
      this.pool = crypto.randomBytes(8 * IDS_PER_DRAW);
      this.used = 0;
    }
    this.used += 8;
    return this.pool.toString('hex', this.used - 8, this.used);
  }
}
