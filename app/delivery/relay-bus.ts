import type { StoredNotification } from '../domain/notification';

// What follows a commit, in one place: every part that reacts to an accepted notification, a
// dismissal or a revocation listens on the RelayBus, and every part that causes one publishes
// on it. In one process the bus is a direct call (LocalRelayBus); [cluster] implements the same
// interface on Redis, so every node's listeners hear what any node committed.

/** A notification was dismissed (by a device, or on the desktop when `byDevice` is null). */
export interface DismissedEvent {
  id: string;
  seq: number;
  /** Its row in `dismissals`: devices keep a cursor over these to learn what they missed. */
  dismissalSeq: number;
  byDevice: string | null;
}

/** A part that reacts to relay events; each method it leaves out is not called. */
export interface RelayListener {
  /** Committed to the outbox; called in seq order. */
  accepted?(notification: StoredNotification): void;
  dismissed?(event: DismissedEvent): void;
  /** The device's tokens are dead (committed): its sockets close now. */
  deviceRevoked?(deviceId: string): void;
  /** An API token was revoked (committed): its subscriber streams close now. */
  tokenRevoked?(tokenId: number): void;
}

/** The seam between what commits and what reacts; asynchronous because [cluster]'s crosses Redis. */
export interface RelayBus {
  accepted(notification: StoredNotification): Promise<void>;
  dismissed(event: DismissedEvent): Promise<void>;
  deviceRevoked(deviceId: string): Promise<void>;
  tokenRevoked(tokenId: number): Promise<void>;
  /** Adds a listener; returns its removal. */
  subscribe(listener: RelayListener): () => void;
}

/**
 * The in-process bus: publishing calls every listener at once, in subscription order, so an
 * `accepted` published from a commit callback reaches delivery before the next commit's. A
 * listener that throws is reported and does not stop the others.
 *
 *   const bus = new LocalRelayBus((e, event) => log.error('relay listener failed', { event }));
 *   bus.subscribe(delivery);
 *   void bus.accepted(notification);
 */
export class LocalRelayBus implements RelayBus {
  private readonly listeners = new Set<RelayListener>();

  constructor(private readonly onError: (error: unknown, event: keyof RelayListener) => void = () => undefined) {}

  accepted(notification: StoredNotification): Promise<void> {
    return this.publish('accepted', (l) => l.accepted?.(notification));
  }

  dismissed(event: DismissedEvent): Promise<void> {
    return this.publish('dismissed', (l) => l.dismissed?.(event));
  }

  deviceRevoked(deviceId: string): Promise<void> {
    return this.publish('deviceRevoked', (l) => l.deviceRevoked?.(deviceId));
  }

  tokenRevoked(tokenId: number): Promise<void> {
    return this.publish('tokenRevoked', (l) => l.tokenRevoked?.(tokenId));
  }

  subscribe(listener: RelayListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  private publish(event: keyof RelayListener, call: (listener: RelayListener) => void): Promise<void> {
    for (const listener of this.listeners) {
      try {
        call(listener);
      } catch (error) {
        this.onError(error, event);
      }
    }
    return Promise.resolve();
  }
}
