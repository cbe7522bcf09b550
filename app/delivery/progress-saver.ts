import type { Timers } from '../queue/timers';
import type { ProgressWrite } from './ports';

// Cheap acks and dismissals: progress and dismissal cursors are not written per ack or per
// dismissal but coalesced, every device that moved within one interval in one write. A kill -9
// loses at most the last interval's progress: those notifications are sent again (and the
// phone dedupes them by id), never lost, since progress only ever records what was acked.

/**
 * Collects which devices' progress moved and writes them together, at most `intervalMs` after
 * the first change; `flush()` writes now (a device disconnecting, shutdown). Writes are
 * chained, so they commit in the order they were taken.
 *
 *   saver.mark(deviceId, () => session.progressWrite());   // on every ack or dismissal
 *   await saver.flush();                                   // at stop
 */
export class ProgressSaver {
  private readonly dirty = new Map<string, () => ProgressWrite | null>();
  private timer: unknown = null;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly save: (writes: ProgressWrite[]) => Promise<void>,
    private readonly timers: Timers,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
    /** Devices per write at most: a thousand phones' progress is written as several short commits, each on its own turn, not one long one. */
    private readonly devicesPerWrite = Number.POSITIVE_INFINITY,
  ) {}

  /** The device's progress moved; `take` is called when the write is made and returns what to write (null: nothing). */
  mark(deviceId: string, take: () => ProgressWrite | null): void {
    this.dirty.set(deviceId, take);
    this.timer ??= this.timers.setTimeout(() => void this.flush(), this.intervalMs);
  }

  /** Writes every device marked so far; resolves once that write (and every earlier one) is done. */
  flush(): Promise<void> {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    const writes: ProgressWrite[] = [];
    for (const take of this.dirty.values()) {
      const write = take();
      if (write) writes.push(write);
    }
    this.dirty.clear();
    for (let start = 0; start < writes.length; start += this.devicesPerWrite) {
      const chunk = writes.slice(start, start + this.devicesPerWrite);
      this.chain = this.chain.then(() => this.save(chunk)).catch((error) => this.onError(error));
    }
    return this.chain;
  }

  /** Resolves once every write taken so far is done (a reconnecting device reads its progress after). */
  idle(): Promise<void> {
    return this.chain;
  }

  /** Devices waiting for the next write (tests, metrics). */
  get pending(): number {
    return this.dirty.size;
  }
}
