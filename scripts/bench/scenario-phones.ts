import type { BenchContext } from './bench-context';
import { sleep } from './clock';
import * as F from './figures';
import { HttpPoster, postAtFixedRate, postWindowed, RoundRobinPoster, type Poster } from './http-poster';
import { recordCores, runPhonePhase } from './phone-phase';
import { PhoneFleet } from './phone-fleet';
import { totalRssBytes } from './proc-stats';
import { startSystem } from './start-system';
import { percentile, toMb } from './stats';
import { SYSTEM_LABELS, type SystemKind, type SystemUnderTest } from './system';
import type { PhaseUsage } from './phase-meter';

// N phones on a fresh server: RSS before and after they connect, a warm-up, then fan-out (as
// fast as the phones take it, the poster at most `fanoutWindow` posts ahead of the slowest)
// and latency at a fixed delivery rate (default priority, then urgent), then RSS after.

/** Which parts of the phones scenario this run measures. */
export interface PhoneParts {
  fanout: boolean;
  latency: boolean;
}

/** Runs the phones scenario once on a fresh `kind` with `phones` phones. */
export async function runPhones(ctx: BenchContext, kind: SystemKind, phones: number, parts: PhoneParts, run: number): Promise<void> {
  const { sizes, results } = ctx;
  const label = `${SYSTEM_LABELS[kind]} ${phones} phones (run ${run})`;
  ctx.progress(`${label}: starting, preparing phones`);
  const system = await startSystem(kind, ctx.plan);
  let poster: Poster | null = null;
  let fleet: PhoneFleet | null = null;
  try {
    const spec = await system.preparePhones(phones);
    poster = system.postTargets
      ? new RoundRobinPoster(system.postTargets.map((t) => new HttpPoster(t, sizes.concurrency)))
      : new HttpPoster(system.postTarget, sizes.concurrency);
    await sleep(sizes.settleMs);
    const before = toMb(totalRssBytes(system.pids));
    ctx.progress(`${label}: connecting`);
    fleet = new PhoneFleet(spec, sizes.phonesPerWorker);
    await fleet.connect();
    await sleep(sizes.settleMs);
    const connected = toMb(totalRssBytes(system.pids));
    results.add(F.rssBeforePhonesMb(phones), kind, before);
    results.add(F.rssConnectedMb(phones), kind, connected);
    if (before !== undefined && connected !== undefined) results.add(F.rssPerPhoneKb(phones), kind, ((connected - before) * 1000) / phones);

    const post = poster;
    const window = (phase: string, count: number) => () => postWindowed(post, phase, count, sizes.fanoutWindow, sizes.concurrency, fleet!);
    const warmUp = sizes.fanoutWarmUp(phones);
    ctx.progress(`${label}: warm-up, ${warmUp} posts`);
    await runPhonePhase(ctx, `${label} warm-up`, system, fleet, 'w', warmUp, false, window('w', warmUp));
    await sleep(300);

    if (parts.fanout) {
      const posts = sizes.fanoutPosts(phones);
      ctx.progress(`${label}: fan-out, ${posts} posts`);
      const { outcome, receipts, usage } = await runPhonePhase(ctx, `${label} fan-out`, system, fleet, 'f', posts, false, window('f', posts));
      const counts = !usage.saturated;
      results.add(F.fanoutRate(phones), kind, (receipts.received * 1000) / (receipts.lastAt - outcome.firstSentAt), counts);
      if (usage.serverCpuSec !== undefined && receipts.received > 0) {
        results.add(F.fanoutCpuUs(phones), kind, (usage.serverCpuSec * 1e6) / receipts.received, counts);
      }
      recordCores(ctx, `${label} fan-out`, F.fanoutClientCore(phones), kind, usage);
      recordRedisShare(ctx, system, F.clusterRedisShare(phones, 'fanout'), usage);
      await sleep(500);
    }

    if (parts.latency) {
      const rate = sizes.latencyDeliveriesPerSec / phones;
      const count = Math.round(rate * sizes.latencySeconds);
      for (const [phase, priority] of [['d', 'default'], ['u', 'urgent']] as const) {
        ctx.progress(`${label}: latency, ${priority}, ${rate}/s for ${sizes.latencySeconds} s`);
        const { receipts, usage } = await runPhonePhase(ctx, `${label} latency ${priority}`, system, fleet, phase, count, true, () =>
          postAtFixedRate(post, phase, rate, sizes.latencySeconds, priority),
        );
        const counts = !usage.saturated;
        results.add(F.latencyP50(phones, priority), kind, percentile(receipts.latencies, 50), counts);
        results.add(F.latencyP99(phones, priority), kind, percentile(receipts.latencies, 99), counts);
        recordCores(ctx, `${label} latency ${priority}`, F.latencyClientCore(phones, priority), kind, usage);
        recordRedisShare(ctx, system, F.clusterRedisShare(phones, priority), usage);
        await sleep(500);
      }
    }

    await sleep(sizes.settleMs);
    if (parts.fanout && parts.latency) results.add(F.rssAfterLoadMb(phones), kind, toMb(totalRssBytes(system.pids)));
    results.problems.push(...fleet.lost().map((m) => `${label}: lost ${m}`), ...system.problems().map((p) => `${label}: ${p}`));
  } finally {
    await fleet?.close();
    poster?.close();
    const code = await system.stop();
    if (code !== 0) results.problems.push(`${label}: exited with ${code} on SIGTERM`);
  }
}

/** A cluster's redis-server share of the server side's CPU in a phase (nothing for a one-process system). */
function recordRedisShare(ctx: BenchContext, system: SystemUnderTest, figure: string, usage: PhaseUsage): void {
  if (system.redisPid === undefined || !usage.serverCpuSec) return;
  const redisCpu = usage.cpuSecByPid[system.pids.indexOf(system.redisPid)];
  if (redisCpu !== undefined) ctx.results.add(figure, system.kind, redisCpu / usage.serverCpuSec, !usage.saturated);
}
