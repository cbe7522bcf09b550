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

  run<T>(scope: LogScope, fn: () => T): T {
    return this.storage.run(scope, fn);
  }

  /** Runs `fn` under a fresh event id (socket events, timers). */
  event<T>(fn: () => T): T {
    return this.storage.run({ eventId: newId() }, fn);
  }

  current(): LogScope | undefined {
    return this.storage.getStore();
  }
}

/** 16 hex characters: unique enough to grep one request out of a month of logs. */
export function newId(): string {
  return crypto.randomBytes(8).toString('hex');
}
