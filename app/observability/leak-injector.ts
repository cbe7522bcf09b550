import crypto from 'node:crypto';

// DIAGNOSTIC ONLY (config `diagnostics.leakInjection`, off by default): retains memory on
// purpose so the memory watch's leak alarm can be shown to work on a real daemon. Reachable
// only through the admin listener (loopback, admin token), never from the LAN.

/** bytes per retained chunk: a flat 64 KiB one-byte string on the V8 heap (not external memory). */
const CHUNK_BYTES = 64 * 1024;
/** ms between allocations. */
const TICK_MS = 100;
/** MB the injector will ever hold, whatever it is asked: a diagnostic must not take the PC down. */
const MAX_MB = 512;

export class LeakInjector {
  private retained: string[] = [];
  private timer?: NodeJS.Timeout;

  /** Grows the heap by `mbPerSec` for `seconds` (then holds it until `release`). */
  start(mbPerSec: number, seconds: number): void {
    this.stopTimer();
    const perTick = Math.max(1, Math.round((mbPerSec * 1024 * 1024 * TICK_MS) / 1000 / CHUNK_BYTES));
    const deadline = Date.now() + seconds * 1000;
    this.timer = setInterval(() => {
      if (Date.now() >= deadline || this.retainedMb >= MAX_MB) return this.stopTimer();
      // Random hex: every chunk distinct and flat (padEnd or repeat would share one filler).
      for (let i = 0; i < perTick; i++) this.retained.push(crypto.randomBytes(CHUNK_BYTES / 2).toString('hex'));
    }, TICK_MS);
    this.timer.unref();
  }

  release(): void {
    this.stopTimer();
    this.retained = [];
  }

  get retainedMb(): number {
    return Math.round((this.retained.length * CHUNK_BYTES) / 1048576);
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
