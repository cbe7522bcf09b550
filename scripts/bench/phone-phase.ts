import type { BenchContext } from './bench-context';
import type { PostOutcome } from './http-poster';
import { PhaseMeter, type PhaseUsage } from './phase-meter';
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
  serverPid: number,
  fleet: PhoneFleet,
  phase: string,
  capacity: number,
  trackLatency: boolean,
  post: () => Promise<PostOutcome>,
): Promise<PhaseRun> {
  await fleet.beginPhase(phase, capacity, trackLatency);
  const meter = new PhaseMeter(ctx.plan, serverPid, ctx.sizes.saturatedAbove);
  const outcome = await post();
  await fleet.waitForReceived(outcome.accepted * fleet.size, ctx.sizes.drainTimeoutMs);
  const usage = meter.finish();
  const receipts = await fleet.endPhase(outcome.acceptedIndexes);
  recordPostProblems(ctx, label, outcome);
  if (receipts.missing > 0) {
    ctx.results.problems.push(
      `${label}: ${formatPairs(receipts.missing)} of ${formatPairs(outcome.accepted * fleet.size)} (phone, notification) receipts ` +
        `missing ${ctx.sizes.drainTimeoutMs / 1000} s after the last answer`,
    );
  }
  if (receipts.duplicates > 0) ctx.results.notes.push(`${label}: ${formatPairs(receipts.duplicates)} duplicate receipts (redeliveries; not counted)`);
  return { outcome, receipts, usage };
}

/** Refused posts fail the run; retried keep-alive posts are noted. */
export function recordPostProblems(ctx: BenchContext, label: string, outcome: PostOutcome): void {
  if (outcome.accepted < outcome.sent) {
    const statuses = [...outcome.failures].map(([status, n]) => `${n}x ${status}`).join(', ');
    ctx.results.problems.push(`${label}: ${outcome.sent - outcome.accepted} of ${outcome.sent} posts not accepted (${statuses})`);
  }
  if (outcome.retried > 0) ctx.results.notes.push(`${label}: ${outcome.retried} posts retried after the server closed a reused keep-alive socket`);
}

const formatPairs = (n: number) => n.toLocaleString('en-US');
