import { BeepError } from '../domain/errors';

// Caps on concurrent subscriber streams (ntfy json/sse/raw/ws and polls, Gotify /stream): per
// API token and per client address, so neither a leaked token nor one host can hold an
// unbounded number of sockets, timers and buffers. A refusal is a 429 that the route answers
// in its protocol's shape.

/** How many streams may be open at once. */
export interface StreamCaps {
  perToken: number;
  perAddress: number;
  /** seconds a refused client is told to wait (Retry-After): streams end at the client's pace. */
  retryAfterSec: number;
}

/** Which cap refused a stream (the rate-limit metric's scope). */
export type StreamCapScope = 'stream_token' | 'stream_address';

/**
 * Counts open streams.
 *
 *   const release = slots.take(token.id, address); // throws rate_limited past a cap
 *   writer.onClosed(release);
 */
export class StreamSlots {
  private readonly byToken = new Map<number, number>();
  private readonly byAddress = new Map<string, number>();

  constructor(
    private readonly caps: StreamCaps,
    private readonly onRefused: (scope: StreamCapScope) => void = () => undefined,
  ) {}

  /** Takes a slot for one stream; the release it returns frees it (once, however often called). */
  take(tokenId: number, address: string): () => void {
    if ((this.byToken.get(tokenId) ?? 0) >= this.caps.perToken) this.refuse('stream_token', `This token already has ${this.caps.perToken} open streams.`);
    if ((this.byAddress.get(address) ?? 0) >= this.caps.perAddress) this.refuse('stream_address', `This address already has ${this.caps.perAddress} open streams.`);
    bump(this.byToken, tokenId, 1);
    bump(this.byAddress, address, 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      bump(this.byToken, tokenId, -1);
      bump(this.byAddress, address, -1);
    };
  }

  private refuse(scope: StreamCapScope, message: string): never {
    this.onRefused(scope);
    throw new BeepError('rate_limited', `${message} Close one first.`, { retryAfter: this.caps.retryAfterSec });
  }
}

function bump<K>(counts: Map<K, number>, key: K, by: number): void {
  const next = (counts.get(key) ?? 0) + by;
  if (next > 0) counts.set(key, next);
  else counts.delete(key);
}
