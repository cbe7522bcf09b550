// Reconnect delays: exponential from 1 s to 30 s with jitter, so phones that lost the daemon
// together (a restart) do not all knock at the same instant.

export const MIN_DELAY_MS = 1_000;
export const MAX_DELAY_MS = 30_000;

/** The wait before retry number `attempt` (0-based): within [ceiling/2, ceiling], at least 1 s. */
export function backoffDelay(attempt, random = Math.random) {
  const ceiling = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** Math.min(attempt, 16));
  return Math.round(Math.max(MIN_DELAY_MS, ceiling * (0.5 + random() / 2)));
}
