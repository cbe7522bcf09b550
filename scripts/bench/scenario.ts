import { performance } from 'node:perf_hooks';
import { HttpPoster, postAtFixedRate, postFlatOut, type PostOutcome } from './http-poster';
import { cpuSeconds, machineBusySeconds, ownCpuSeconds, PeakRss, waitForQuietMachine } from './proc-stats';
import { PhaseReceipts, ReceiptSink } from './receipts';
import type { RelayUnderTest } from './relay-under-test';
import type { BenchSizes } from './sizes';
import { percentile } from './stats';

// One system at one client count: start it, warm up, post flat out, post at a fixed rate,
// wait for every client to have every accepted notification, measure, stop.

/** How one posting phase went, from the HTTP side and the clients' side. */
export interface PhaseResult {
  posted: number;
  accepted: number;
  /** 2xx answers per second from the first request to the last answer. */
  acceptedPerSec: number;
  /** Unique (notification, client) receipts per second from the first request to the last receipt. */
  deliveredPerSec: number;
  expected: number;
  received: number;
  missing: number;
  duplicates: number;
  failures: Map<string, number>;
  /** Relay CPU seconds spent during the phase (posting start to last receipt). */
  cpuSeconds: number | undefined;
  /** Cores this bench process (clients, load generator) kept busy on average during the phase. */
  benchCores: number;
  /** Cores every other process of the machine kept busy on average during the phase (should be ~0). */
  otherCores: number | undefined;
  /** Posts retried after a keep-alive socket reset. */
  retried: number;
  /** ms from the first request to the last receipt. */
  elapsedMs: number;
  latency: { p50: number; p99: number; max: number };
}

/** Everything the report prints for one system at one client count. */
export interface SystemResult {
  system: string;
  clients: number;
  flat: PhaseResult;
  fixed: PhaseResult;
  peakRssBytes: number | undefined;
  extras: Record<string, number>;
  /** Why this run does not count as a pass (missing receipts, failed posts, lost sockets). */
  problems: string[];
}

/** Cores of unrelated load below which the machine counts as quiet enough to start a run. */
const QUIET_CORES = 0.1;

/** Progress lines go to stderr so the report on stdout stays a clean table. */
function progress(message: string): void {
  process.stderr.write(`  … ${message}\n`);
}

async function waitUntil(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

async function runPhase(
  relay: RelayUnderTest,
  sink: ReceiptSink,
  clients: number,
  phase: string,
  count: number,
  trackLatency: boolean,
  drainTimeoutMs: number,
  post: () => Promise<PostOutcome>,
): Promise<PhaseResult> {
  const receipts = new PhaseReceipts(phase, clients, count, trackLatency);
  sink.current = receipts;
  const cpuBefore = cpuSeconds(relay.pid);
  const ownBefore = ownCpuSeconds();
  const machineBefore = machineBusySeconds();
  const outcome = await post();
  const expected = outcome.accepted * clients;
  await waitUntil(() => receipts.received >= expected, drainTimeoutMs);
  const cpuAfter = cpuSeconds(relay.pid);
  const ownUsed = ownCpuSeconds() - ownBefore;
  const machineAfter = machineBusySeconds();
  const end = receipts.received > 0 ? receipts.lastAt : outcome.lastAnswerAt;
  const elapsedMs = end - outcome.firstSentAt;
  const samples = receipts.latencySamples();
  const relayUsed = cpuBefore !== undefined && cpuAfter !== undefined ? cpuAfter - cpuBefore : undefined;
  const machineUsed = machineBefore !== undefined && machineAfter !== undefined ? machineAfter - machineBefore : undefined;
  return {
    posted: outcome.sent,
    accepted: outcome.accepted,
    acceptedPerSec: (outcome.accepted * 1000) / (outcome.lastAnswerAt - outcome.firstSentAt),
    deliveredPerSec: (receipts.received * 1000) / elapsedMs,
    expected,
    received: receipts.received,
    missing: receipts.missing(outcome.acceptedIndexes),
    duplicates: receipts.duplicates,
    failures: outcome.failures,
    cpuSeconds: relayUsed,
    benchCores: (ownUsed * 1000) / elapsedMs,
    otherCores:
      machineUsed !== undefined && relayUsed !== undefined ? Math.max(0, ((machineUsed - relayUsed - ownUsed) * 1000) / elapsedMs) : undefined,
    retried: outcome.retried,
    elapsedMs,
    latency: { p50: percentile(samples, 50), p99: percentile(samples, 99), max: percentile(samples, 100) },
  };
}

function phaseProblems(label: string, result: PhaseResult, drainTimeoutMs: number): string[] {
  const problems: string[] = [];
  if (result.accepted < result.posted) {
    const statuses = [...result.failures].map(([status, n]) => `${n}× ${status}`).join(', ');
    problems.push(`${label}: ${result.posted - result.accepted} of ${result.posted} posts not accepted (${statuses})`);
  }
  if (result.missing > 0) {
    problems.push(
      `${label}: ${result.missing} of ${result.expected} (notification, client) receipts missing ${drainTimeoutMs / 1000} s after the last answer`,
    );
  }
  return problems;
}

/** Runs the whole scenario on the system `start` launches with `clients` clients. */
export async function runScenario(
  start: (clients: number, sink: ReceiptSink) => Promise<RelayUnderTest>,
  label: string,
  clients: number,
  sizes: BenchSizes,
  register: (relay: RelayUnderTest | null) => void,
): Promise<SystemResult> {
  const sink = new ReceiptSink();
  if (sizes.quietWaitMs > 0) {
    await waitForQuietMachine(QUIET_CORES, sizes.quietWaitMs, (cores) =>
      progress(
        `${label}, N=${clients}: other processes keep ${(cores * 100).toFixed(0)} % of a core busy; ` +
          `waiting up to ${sizes.quietWaitMs / 1000} s for them to finish`,
      ),
    );
  }
  progress(`${label}, N=${clients}: starting and connecting ${clients} clients`);
  const relay = await start(clients, sink);
  register(relay);
  const rss = new PeakRss(relay.pid);
  const poster = new HttpPoster(relay.postTarget, sizes.concurrency);
  let result: SystemResult;
  try {
    const flatCount = sizes.flatOut(clients);
    const fixedCount = Math.round(sizes.fixedRate * sizes.fixedSeconds);
    const { drainTimeoutMs, concurrency } = sizes;
    progress(`${label}, N=${clients}: warm-up, ${sizes.warmUp} posts`);
    const warm = await runPhase(relay, sink, clients, 'w', sizes.warmUp, false, drainTimeoutMs, () =>
      postFlatOut(poster, 'w', sizes.warmUp, concurrency),
    );
    await new Promise((r) => setTimeout(r, 300));
    progress(`${label}, N=${clients}: flat out, ${flatCount} posts, ${concurrency} in flight`);
    const flat = await runPhase(relay, sink, clients, 'f', flatCount, false, drainTimeoutMs, () =>
      postFlatOut(poster, 'f', flatCount, concurrency),
    );
    await new Promise((r) => setTimeout(r, 500));
    progress(`${label}, N=${clients}: fixed rate, ${sizes.fixedRate}/s for ${sizes.fixedSeconds} s`);
    const fixed = await runPhase(relay, sink, clients, 'r', fixedCount, true, drainTimeoutMs, () =>
      postAtFixedRate(poster, 'r', sizes.fixedRate, sizes.fixedSeconds),
    );
    const extras = await relay.extras();
    const problems = [
      ...phaseProblems('warm-up', warm, drainTimeoutMs),
      ...phaseProblems('flat out', flat, drainTimeoutMs),
      ...phaseProblems('fixed rate', fixed, drainTimeoutMs),
      ...relay.unexpectedDisconnects(),
    ];
    result = { system: relay.name, clients, flat, fixed, peakRssBytes: rss.read(), extras, problems };
  } catch (error) {
    await relay.stop().catch(() => undefined);
    register(null);
    throw error;
  } finally {
    rss.stop();
    poster.close();
    sink.current = null;
  }
  const code = await relay.stop();
  register(null);
  if (code !== 0) result.problems.push(`${label} exited with ${code} on SIGTERM`);
  return result;
}
