// The flood guard of one socket, pure: a token bucket refilled at `ratePerSec` up to `burst`;
// an event that finds it empty is dropped, and `disconnectAfter` drops in a row mean the
// socket is hostile or broken and gets closed. Other sockets have their own buckets, so one
// flooding device slows nobody else.

export type Admission = 'accept' | 'drop' | 'disconnect';

export interface ThrottleOptions {
  ratePerSec: number;
  burst: number;
  disconnectAfter: number;
}

/**
 * One per socket.
 *
 *   const t = new EventThrottle({ ratePerSec: 10, burst: 30, disconnectAfter: 100 }, Date.now);
 *   switch (t.admit()) { case 'accept': handle(); break; case 'drop': reply rate_limited; break; case 'disconnect': close(); }
 */
export class EventThrottle {
  private tokens: number;
  private last: number;
  private refusedInRow = 0;

  constructor(
    private readonly options: ThrottleOptions,
    private readonly now: () => number,
  ) {
    this.tokens = options.burst;
    this.last = now();
  }

  admit(): Admission {
    const t = this.now();
    this.tokens = Math.min(this.options.burst, this.tokens + ((t - this.last) / 1000) * this.options.ratePerSec);
    this.last = t;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      this.refusedInRow = 0;
      return 'accept';
    }
    this.refusedInRow++;
    return this.refusedInRow >= this.options.disconnectAfter ? 'disconnect' : 'drop';
  }
}
