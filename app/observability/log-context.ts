import { AsyncLocalStorage } from 'node:async_hooks';
import { RandomPool } from '../crypto/random-pool';

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

/** Request and event ids, 16 hex characters: unique enough to grep one request out of a month of logs. */
export class IdSource {
  private readonly pool = new RandomPool();

  next(): string {
    return this.pool.text(8, 'hex');
  }
}
