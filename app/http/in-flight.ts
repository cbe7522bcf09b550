import type { ServerResponse } from 'node:http';

// The requests a listener has read the headers of and not yet answered: what a stop waits
// for (and what /metrics shows as beep_http_requests_in_flight), and what it answers itself
// when the wait runs out, so that no request whose headers were read goes unanswered.

/** ms between looks at the count while a stop waits for it to reach zero. */
const POLL_MS = 10;

/**
 *   const inFlight = new InFlight((n) => gauge.set(n));
 *   inFlight.track(res, () => sendError(res, 'beep', new BeepError('unavailable')));
 *   await inFlight.answered(2500); …commit or refuse what is queued…; inFlight.refuseRemaining();
 */
export class InFlight {
  private readonly open = new Map<ServerResponse, () => void>();

  constructor(private readonly onChange: (count: number) => void = () => undefined) {}

  /** Tracks a response until it finishes or its connection closes; `refuse` answers it if a stop cannot wait. */
  track(res: ServerResponse, refuse: () => void): void {
    this.open.set(res, refuse);
    this.onChange(this.open.size);
    const done = () => {
      if (this.open.delete(res)) this.onChange(this.open.size);
    };
    res.once('finish', done);
    res.once('close', done);
  }

  get size(): number {
    return this.open.size;
  }

  /** Each response still open (a stop sets `Connection: close` on them). */
  responses(): ServerResponse[] {
    return [...this.open.keys()];
  }

  /** Resolves true once every request in flight has at least begun its answer (streams have), or false after `ms`. */
  answered(ms: number): Promise<boolean> {
    return this.waitFor(() => [...this.open.keys()].every((res) => res.headersSent), ms);
  }

  /** Resolves true once nothing is in flight, or false after `ms`. */
  settled(ms: number): Promise<boolean> {
    return this.waitFor(() => this.open.size === 0, ms);
  }

  private waitFor(done: () => boolean, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    return new Promise((resolve) => {
      const look = () => {
        if (done()) return resolve(true);
        if (Date.now() >= deadline) return resolve(false);
        setTimeout(look, POLL_MS);
      };
      look();
    });
  }

  /** Answers every request still open that has no answer yet (503), and ends those mid-answer. */
  refuseRemaining(): void {
    for (const [res, refuse] of [...this.open]) {
      try {
        if (res.headersSent) res.end();
        else refuse();
      } catch {
        res.destroy();
      }
    }
  }
}
