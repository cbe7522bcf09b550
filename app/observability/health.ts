// Health: each component reports ok / degraded / down with its latency and a reason; a check
// that takes longer than its timeout counts as down.

export type HealthStatus = 'ok' | 'degraded' | 'down';

/** What a check reports: its status, why (when not ok), and any details. */
export interface CheckOutcome {
  status: HealthStatus;
  reason?: string;
  [detail: string]: unknown;
}

export interface CheckResult extends CheckOutcome {
  latencyMs: number;
}

/** A check resolves with its status and details, or throws (down). */
export type Check = () => Promise<CheckOutcome> | CheckOutcome;

/** ms a check may take before it is reported down. */
const CHECK_TIMEOUT_MS = 5_000;

const RANK: Record<HealthStatus, number> = { ok: 0, degraded: 1, down: 2 };

async function runCheck(check: Check, timeoutMs: number): Promise<CheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    const result: CheckOutcome = await Promise.race([Promise.resolve().then(check), timeout]);
    return { ...result, latencyMs: Math.round((performance.now() - started) * 100) / 100 };
  } catch (error) {
    return { status: 'down', reason: (error as Error).message, latencyMs: Math.round(performance.now() - started) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs named checks together.
 *
 *   const health = new HealthChecks({ database: () => store.ping().then(() => ({ status: 'ok' })) });
 *   const { status, checks } = await health.run();
 */
export class HealthChecks {
  constructor(
    private readonly checks: Record<string, Check>,
    private readonly timeoutMs = CHECK_TIMEOUT_MS,
  ) {}

  async run(): Promise<{ status: HealthStatus; checks: Record<string, CheckResult> }> {
    const names = Object.keys(this.checks);
    const results = await Promise.all(names.map((n) => runCheck(this.checks[n], this.timeoutMs)));
    const checks = Object.fromEntries(names.map((n, i) => [n, results[i]]));
    const worst = results.reduce<HealthStatus>((w, r) => (RANK[r.status] > RANK[w] ? r.status : w), 'ok');
    return { status: worst, checks };
  }
}
