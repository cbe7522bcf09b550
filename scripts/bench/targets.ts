// Issue 12's targets as checks: each takes Beep's median (and the afternoon relay's, for the
// relative ones) and says pass or MISS, and by how much.

/** The outcome of one check, as printed beside the figure. */
export interface Verdict {
  pass: boolean;
  text: string;
}

/** A target: its wording for the table, and the check. */
export interface Target {
  text: string;
  /** undefined when a value it needs is missing (not run, or no run counted). */
  judge(beep: number | undefined, relay: number | undefined): Verdict | undefined;
}

const ok = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v);
const pct = (x: number) => `${Math.round(x * 100)}%`;

/** Beep <= k × the relay (CPU, memory, latency percentiles at 1000 phones). */
export function atMostTimesRelay(k: number): Target {
  return {
    text: `<= ${k}x relay`,
    judge: (beep, relay) => {
      if (!ok(beep) || !ok(relay) || relay === 0) return undefined;
      const r = beep / relay;
      return r <= k ? { pass: true, text: `pass (${r.toFixed(2)}x)` } : { pass: false, text: `MISS ${r.toFixed(2)}x, ${pct(r / k - 1)} over` };
    },
  };
}

/** Beep >= k × the relay (throughput). */
export function atLeastTimesRelay(k: number): Target {
  return {
    text: `>= ${k}x relay`,
    judge: (beep, relay) => {
      if (!ok(beep) || !ok(relay) || relay === 0) return undefined;
      const r = beep / relay;
      return r >= k ? { pass: true, text: `pass (${r.toFixed(2)}x)` } : { pass: false, text: `MISS ${r.toFixed(2)}x, ${pct(1 - r / k)} short` };
    },
  };
}

/** Beep <= the relay + `plus` (latency at 100 phones), in `unit`. */
export function atMostRelayPlus(plus: number, unit: string): Target {
  return {
    text: plus === 0 ? '<= relay' : `<= relay + ${plus} ${unit}`,
    judge: (beep, relay) => {
      if (!ok(beep) || !ok(relay)) return undefined;
      const over = beep - (relay + plus);
      return over <= 0 ? { pass: true, text: 'pass' } : { pass: false, text: `MISS by ${over.toFixed(over < 10 ? 2 : 0)} ${unit}` };
    },
  };
}

/** Beep <= an absolute limit (idle RSS, catch-up), in `unit`. */
export function atMost(limit: number, unit: string): Target {
  return {
    text: `<= ${limit.toLocaleString('en-US')} ${unit}`,
    judge: (beep) => {
      if (!ok(beep)) return undefined;
      const over = beep - limit;
      return over <= 0
        ? { pass: true, text: 'pass' }
        : { pass: false, text: `MISS by ${over.toFixed(over < 10 ? 1 : 0)} ${unit} (${pct(over / limit)} over)` };
    },
  };
}
