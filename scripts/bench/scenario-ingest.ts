import type { BenchContext } from './bench-context';
import { nowMs, sleep } from './clock';
import { IDLE_RSS_MB, INGEST_CLIENT_CORE, INGEST_CPU_US, INGEST_RATE } from './figures';
import { HttpPoster, postFlatOut } from './http-poster';
import { PhaseMeter } from './phase-meter';
import { recordCores, recordPostProblems } from './phone-phase';
import { rssBytes } from './proc-stats';
import { startSystem } from './start-system';
import { SYSTEM_LABELS, type SystemKind } from './system';
import { toMb } from './stats';

// Ingest, flat out, with no phones: a fresh server, idle RSS once it has sat for the idle wait
// (issue 12: 10 s after daemon.json appears, before any load), a warm-up, then posts with
// `concurrency` requests in flight: accepted/s and server CPU per accepted POST.

/** Runs the ingest scenario once on a fresh `kind`. */
export async function runIngest(ctx: BenchContext, kind: SystemKind, run: number): Promise<void> {
  const { sizes, results } = ctx;
  const label = `${SYSTEM_LABELS[kind]} ingest (run ${run})`;
  ctx.progress(`${label}: starting, idle for ${sizes.idleWaitMs / 1000} s`);
  const system = await startSystem(kind, ctx.plan);
  const poster = new HttpPoster(system.postTarget, sizes.concurrency);
  try {
    await sleep(system.readyAt + sizes.idleWaitMs - nowMs());
    results.add(IDLE_RSS_MB, kind, toMb(rssBytes(system.pid)));
    ctx.progress(`${label}: warm-up ${sizes.ingestWarmUp}, then ${sizes.ingestPosts} posts flat out`);
    recordPostProblems(ctx, `${label} warm-up`, await postFlatOut(poster, 'w', sizes.ingestWarmUp, sizes.concurrency));
    await sleep(300);
    const meter = new PhaseMeter(ctx.plan, system.pids, sizes.saturatedAbove);
    const outcome = await postFlatOut(poster, 'i', sizes.ingestPosts, sizes.concurrency);
    const usage = meter.finish();
    recordPostProblems(ctx, label, outcome);
    const counts = !usage.saturated;
    results.add(INGEST_RATE, kind, (outcome.accepted * 1000) / (outcome.lastAnswerAt - outcome.firstSentAt), counts);
    if (usage.serverCpuSec !== undefined && outcome.accepted > 0) results.add(INGEST_CPU_US, kind, (usage.serverCpuSec * 1e6) / outcome.accepted, counts);
    recordCores(ctx, label, INGEST_CLIENT_CORE, kind, usage);
    results.problems.push(...system.problems().map((p) => `${label}: ${p}`));
  } finally {
    poster.close();
    const code = await system.stop();
    if (code !== 0) results.problems.push(`${label}: exited with ${code} on SIGTERM`);
  }
}
