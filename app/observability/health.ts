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

export interface HealthReport {
  status: HealthStatus;
  checks: Record<string, CheckResult>;
  /** When the checks ran (a cached report keeps its time). */
  checkedAt: string;
}

export interface HealthOptions {
  /** ms a check may take before it is reported down. */
  timeoutMs: number;
  /** ms a report is reused before the checks run again. */
  cacheTtlMs: number;
  now?: () => number;
}

/**
 * Runs named checks together; concurrent callers share one run, and a report is reused for
 * `cacheTtlMs`, so polling /health/detailed never hammers the database.
 *
 *   const health = new HealthChecks({ database: () => store.ping().then(() => ({ status: 'ok' })) }, options);
 *   const { status, checks } = await health.run();
 */
export class HealthChecks {
  private cached?: { at: number; report: Promise<HealthReport> };

  constructor(
    private readonly checks: Record<string, Check>,
    private readonly options: HealthOptions,
  ) {}

  run(): Promise<HealthReport> {
    const now = (this.options.now ?? Date.now)();
    if (this.cached && now - this.cached.at < this.options.cacheTtlMs) return this.cached.report;
    const report = this.runAll();
    this.cached = { at: now, report };
    return report;
  }

  private async runAll(): Promise<HealthReport> {
    const checkedAt = new Date().toISOString();
    const names = Object.keys(this.checks);
    const results = await Promise.all(names.map((n) => runCheck(this.checks[n], this.options.timeoutMs)));
    const checks = Object.fromEntries(names.map((n, i) => [n, results[i]]));
    const worst = results.reduce<HealthStatus>((w, r) => (RANK[r.status] > RANK[w] ? r.status : w), 'ok');
    return { status: worst, checks, checkedAt };
  }
}
