import type { BenchContext } from './bench-context';
import type { PostOutcome } from './http-poster';
import { benchShareOf } from './figures';
import { PhaseMeter, type PhaseUsage } from './phase-meter';
import type { SystemKind, SystemUnderTest } from './system';
import type { PhoneFleet } from './phone-fleet';
import type { FleetPhaseResult } from './phone-receipts';

// One posting phase with phones: start counting, post, wait until every phone has every
// accepted notification, read the cost, collect the tally, and record what went wrong.

/** What a phase did on the HTTP side, on the phones, and what it cost. */
export interface PhaseRun {
  outcome: PostOutcome;
  receipts: FleetPhaseResult;
  usage: PhaseUsage;
}

/** Runs `post` as phase `phase` (posts 0 … capacity-1) against `fleet`; problems go to ctx.results. */
export async function runPhonePhase(
  ctx: BenchContext,
  label: string,
  system: SystemUnderTest,
  fleet: PhoneFleet,
  phase: string,
  capacity: number,
  trackLatency: boolean,
  post: () => Promise<PostOutcome>,
): Promise<PhaseRun> {
  await fleet.beginPhase(phase, capacity, trackLatency);
  const framesBefore = await readFrames(system);
  const meter = new PhaseMeter(ctx.plan, system.pids, ctx.sizes.saturatedAbove);
  const outcome = await post();
  await fleet.waitForAll(outcome.acceptedIndexes, ctx.sizes.drainTimeoutMs);
  const usage = meter.finish();
  const framesAfter = await readFrames(system);
  if (framesBefore && framesAfter && framesAfter.frames > framesBefore.frames) {
    const frames = framesAfter.frames - framesBefore.frames;
    const perFrame = (framesAfter.items - framesBefore.items) / frames;
    ctx.results.notes.push(`${label}: ${formatPairs(frames)} frames to phones, ${perFrame.toFixed(1)} notifications per frame on average`);
  }
  if (usage.serverCpuSec !== undefined && usage.elapsedMs > 0) {
    ctx.results.notes.push(`${label}: the server's processes used ${Math.round((usage.serverCpuSec * 100_000) / usage.elapsedMs)}% of one core`);
  }
  const receipts = await fleet.endPhase(outcome.acceptedIndexes);
  recordPostProblems(ctx, label, outcome);
  if (receipts.missing > 0) {
    const server = system.undelivered ? await system.undelivered().catch((e: Error) => `(no device list: ${e.message})`) : '';
    ctx.results.problems.push(
      `${label}: ${formatPairs(receipts.missing)} of ${formatPairs(outcome.accepted * fleet.size)} (phone, notification) receipts ` +
        `missing ${ctx.sizes.drainTimeoutMs / 1000} s after the last answer, on ${receipts.phonesShort} phones (${receipts.example}); ${server}`,
    );
  }
  if (receipts.duplicates > 0) ctx.results.notes.push(`${label}: ${formatPairs(receipts.duplicates)} duplicate receipts (redeliveries; not counted)`);
  return { outcome, receipts, usage };
}

/** The server's frame count, when it reports one (read outside the metered span; undefined when unreadable). */
async function readFrames(system: SystemUnderTest): Promise<{ frames: number; items: number } | undefined> {
  const read = await system.frames?.().catch(() => undefined);
  return read && Number.isFinite(read.frames) && Number.isFinite(read.items) ? read : undefined;
}

/** Refused posts fail the run; retried keep-alive posts are noted. */
export function recordPostProblems(ctx: BenchContext, label: string, outcome: PostOutcome): void {
  if (outcome.accepted < outcome.sent) {
    const statuses = [...outcome.failures].map(([status, n]) => `${n}x ${status}`).join(', ');
    ctx.results.problems.push(
      `${label}: ${outcome.sent - outcome.accepted} of ${outcome.sent} posts not accepted (${statuses}); slowest answer ${Math.round(outcome.slowestAnswerMs)} ms`,
    );
  }
  if (outcome.retried > 0) ctx.results.notes.push(`${label}: ${outcome.retried} posts retried after the server closed a reused keep-alive socket`);
}

/** Share of the server core that others may use in a phase before a note says its throughput is understated. */
const OTHERS_ON_SERVER_CORE = 0.15;

/**
 * Records how busy the client core was (and this bench's share of it) under `figure`, and notes
 * a phase in which other processes took a noticeable share of the server's core.
 */
export function recordCores(ctx: BenchContext, label: string, figure: string, kind: SystemKind, usage: PhaseUsage): void {
  ctx.results.add(figure, kind, usage.clientCoreBusy);
  ctx.results.add(benchShareOf(figure), kind, usage.benchBusy);
  if (usage.serverCoreBusy === undefined || usage.serverCpuSec === undefined) return;
  const others = usage.serverCoreBusy - (usage.serverCpuSec * 1000) / usage.elapsedMs;
  if (others > OTHERS_ON_SERVER_CORE) {
    ctx.results.notes.push(`${label}: other processes kept ${Math.round(others * 100)} % of the server core busy; its rates are understated`);
  }
}

const formatPairs = (n: number) => n.toLocaleString('en-US');
