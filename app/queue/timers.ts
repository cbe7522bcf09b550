/**
 * Clock and timer seam for the queue core.
 *
 * The queue never touches the global clock directly; it receives a `Timers`
 * so tests can drive time deterministically and production passes
 * `systemTimers`.
 */

/** Injected clock + one-shot timers, so queue logic is deterministic under test. */
export interface Timers {
  /** Current time in milliseconds; only differences between readings are meaningful. */
  now(): number;
  /** Schedules `fn` once after `ms` milliseconds; returns an opaque handle. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a handle returned by `setTimeout`; unknown or fired handles are ignored. */
  clearTimeout(handle: unknown): void;
}

/**
 * Production timers backed by Node's globals. Uses the monotonic
 * `performance.now()` so wall-clock jumps cannot expire batches early or late.
 * Timers stay ref'd on purpose: a pending redelivery must keep the daemon alive.
 */
export const systemTimers: Timers = Object.freeze({
  now: (): number => performance.now(),
  setTimeout: (fn: () => void, ms: number): unknown => setTimeout(fn, ms),
  clearTimeout: (handle: unknown): void => {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
});
