import { PerformanceObserver, constants, performance, type EventLoopUtilization } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { CheckOutcome } from './health';
import { LeakDetector, limitLevel, type LimitLevel } from './leak-detector';

// The memory watch: samples RSS, heap and external memory every few seconds; once per window
// (3 samples) it hands the LeakDetector the heap V8's own full collections left in it; it raises
// and clears alarms (log, metric, health) for a leak and for the soft and hard RSS limits. Under
// the hard limit it forces no collection (its pause took 50 ms at 100 phones and 100-160 ms at
// 1000, measured, stalling every delivery; forcing one past the soft limit cost a fifth more CPU
// per delivery at 100 phones): a window without a full collection takes its smallest heap reading
// if the loop was nearly idle (little garbage is made then), and gives no verdict if it was busy
// (its heap is mostly garbage waiting for a collection). A sample past the hard limit forces one
// before the limit is judged, as V8 alone lets a busy heap grow toward its own limit. One more
// is forced as start-up ends: V8's memory reducer, which returns the heap's spare pages (86 MB of
// RSS 10 s after ready before it runs, 72 MB after), waits 8 s after the last full collection and
// runs only if it judges the heap quiet, so the 8 s count from the end of start-up, not from its
// last collection. On a free core it runs ~8 s after start; pinned to one core, V8 often still
// waits 16 s (a 3-run of the ingest bench read 73.9 MB idle, the full 3-run 89.5 MB).

export interface MemorySample {
  at: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
}

export interface MemoryWatchOptions {
  sampleIntervalMs: number;
  softLimitBytes: number;
  hardLimitBytes: number;
  leakGrowthBytes: number;
  /** What the daemon holds on purpose (connected devices and notifications held): heap growth with it is not a leak. */
  load?: () => number;
}

export interface MemoryWatchEvents {
  onAlarm?: (kind: 'leak' | 'soft_limit' | 'hard_limit', details: Record<string, unknown>) => void;
  onClear?: (kind: 'leak' | 'soft_limit' | 'hard_limit', details: Record<string, unknown>) => void;
}

/** Samples per window: a full GC and a leak verdict every 3 samples (6 s by default). */
const WINDOW_SAMPLES = 3;
/** Rising windows that make a leak: with 6 s windows, detected within 24 s of its start. */
const LEAK_RISES = 3;
/** bytes of post-GC heap wobble that is not a rise. */
const NOISE_BYTES = 256 * 1024;
/** Event-loop utilisation (0..1) over a window below which its smallest heap reading stands for the floor. */
const IDLE_UTILIZATION = 0.1;

/** A full collection, when V8 lets us have one (it does in Node 20 via --expose-gc at run time). */
function fullGc(): (() => void) | null {
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : null;
  } catch {
    return null;
  }
}

const MB = 1024 * 1024;
const mb = (bytes: number) => Math.round((bytes / MB) * 10) / 10;

export class MemoryWatch {
  private timer?: NodeJS.Timeout;
  private settling?: NodeJS.Immediate;
  private samples = 0;
  private latest: MemorySample | null = null;
  private leak = false;
  private level: LimitLevel = 'ok';
  private readonly detector: LeakDetector;
  /** Forced once as start-up ends, then only past the hard limit (see sample()), at most once per window. */
  private readonly gc = fullGc();
  /** The sample that last forced a collection. */
  private forcedAt = -Infinity;
  /** The smallest heap seen in the current window. */
  private windowMin = Infinity;
  /** The smallest heap read right after one of V8's own full collections in the current window. */
  private afterMajorGc = Infinity;
  private gcObserver?: PerformanceObserver;
  private utilization: EventLoopUtilization = performance.eventLoopUtilization();

  constructor(
    private readonly options: MemoryWatchOptions,
    private readonly events: MemoryWatchEvents = {},
  ) {
    this.detector = new LeakDetector({ growthBytes: options.leakGrowthBytes, rises: LEAK_RISES, noiseBytes: NOISE_BYTES });
  }

  start(): void {
    this.gcObserver = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        if ((entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
          this.afterMajorGc = Math.min(this.afterMajorGc, v8.getHeapStatistics().used_heap_size);
        }
      }
    });
    this.gcObserver.observe({ entryTypes: ['gc'] });
    this.utilization = performance.eventLoopUtilization();
    this.sample();
    this.timer = setInterval(() => this.sample(), this.options.sampleIntervalMs);
    this.timer.unref();
    // The caller's start-up finishes in this turn; its garbage is collected on the next.
    this.settling = setImmediate(() => this.gc?.());
  }

  stop(): void {
    clearInterval(this.timer);
    clearImmediate(this.settling);
    this.gcObserver?.disconnect();
  }

  current(): MemorySample | null {
    return this.latest;
  }

  alarms(): { leak: boolean; soft: boolean; hard: boolean } {
    return { leak: this.leak, soft: this.level !== 'ok', hard: this.level === 'hard' };
  }

  /** The `memory` health check: degraded on a leak or past the soft limit, down past the hard one. */
  check(): CheckOutcome {
    const m = this.latest ?? this.read();
    const details = { rssMb: mb(m.rss), heapUsedMb: mb(m.heapUsed), externalMb: mb(m.external) };
    const reasons: string[] = [];
    if (this.leak) reasons.push(`heap keeps growing after GC (+${mb(this.detector.verdict().growthBytes)} MB)`);
    if (this.level === 'hard') reasons.push(`RSS ${mb(m.rss)} MB is past the hard limit of ${mb(this.options.hardLimitBytes)} MB`);
    else if (this.level === 'soft') reasons.push(`RSS ${mb(m.rss)} MB is past the soft limit of ${mb(this.options.softLimitBytes)} MB`);
    const status = this.level === 'hard' ? 'down' : reasons.length > 0 ? 'degraded' : 'ok';
    return { status, ...(reasons.length ? { reason: reasons.join('; ') } : {}), ...details };
  }

  private read(): MemorySample {
    const m = process.memoryUsage();
    return { at: Date.now(), rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external };
  }

  private sample(): void {
    this.samples += 1;
    let sample = this.read();
    let collected = false;
    // Past the hard limit a pause is worth it: V8 alone lets a busy heap grow toward its own
    // limit (a thousand phones passed 320 MB), so a full collection runs before the limit is
    // judged; at most one per window, as RSS that is not heap (or a real leak) may stay past it.
    if (this.gc && sample.rss >= this.options.hardLimitBytes && this.samples - this.forcedAt >= WINDOW_SAMPLES) {
      this.forcedAt = this.samples;
      this.gc();
      sample = this.read();
      collected = true;
    }
    this.windowMin = Math.min(this.windowMin, sample.heapUsed);
    if (this.samples % WINDOW_SAMPLES === 0) {
      const busy = performance.eventLoopUtilization(this.utilization).utilization;
      let floor: number | null = null;
      if (collected) floor = sample.heapUsed;
      else if (this.afterMajorGc < Infinity) floor = this.afterMajorGc;
      else if (busy < IDLE_UTILIZATION) floor = this.windowMin;
      // A busy window with no full collection of V8's own says nothing about a leak: no verdict.
      this.windowMin = this.afterMajorGc = Infinity;
      this.utilization = performance.eventLoopUtilization();
      if (floor !== null) this.judgeLeak(floor);
    }
    this.latest = sample;
    this.judgeLimits(sample.rss);
  }

  private judgeLeak(floor: number): void {
    const verdict = this.detector.floor(floor, this.options.load?.() ?? 0);
    const details = { heapAfterGcMb: mb(floor), growthMb: mb(verdict.growthBytes), windows: verdict.run.length };
    if (verdict.suspected && !this.leak) this.events.onAlarm?.('leak', details);
    if (!verdict.suspected && this.leak) this.events.onClear?.('leak', details);
    this.leak = verdict.suspected;
  }

  private judgeLimits(rss: number): void {
    const level = limitLevel(rss, this.options.softLimitBytes, this.options.hardLimitBytes);
    if (level === this.level) return;
    const details = { rssMb: mb(rss), softLimitMb: mb(this.options.softLimitBytes), hardLimitMb: mb(this.options.hardLimitBytes) };
    const rank = { ok: 0, soft: 1, hard: 2 };
    if (rank[level] > rank[this.level]) this.events.onAlarm?.(level === 'hard' ? 'hard_limit' : 'soft_limit', details);
    else this.events.onClear?.(this.level === 'hard' ? 'hard_limit' : 'soft_limit', details);
    this.level = level;
  }
}
