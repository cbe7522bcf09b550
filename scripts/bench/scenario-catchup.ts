import type { BenchContext } from './bench-context';
import { freePorts, killHard, launchDaemon, pairDevice, stopDaemon, type BeepDaemon, type DaemonLaunch } from './beep-daemon';
import { clientAddress } from './client-address';
import { nowMs, sleep } from './clock';
import * as F from './figures';
import { probeHealth } from './health-probe';
import { HealthProber } from './health-prober';
import { HttpPoster, postFlatOut } from './http-poster';
import { PhaseMeter } from './phase-meter';
import { recordCores, recordPostProblems } from './phone-phase';
import { PhoneFleet } from './phone-fleet';
import { PeakRss, rssBytes } from './proc-stats';
import { percentile, toMb } from './stats';

// Beep only: `catchupPending` notifications posted for a paired phone that never connected,
// kill -9, restart on the same data dir and ports; then how soon /health answers, how long the
// phone takes to get everything, the RSS meanwhile against the restarted daemon's idle, and
// /health probed every `healthProbeMs` from its own thread on the client core throughout.

/** ms between /health attempts while the restarted daemon is not listening yet. */
const FIRST_ANSWER_POLL_MS = 5;
/** ms one /health probe may take before it counts as failed. */
const PROBE_TIMEOUT_MS = 10_000;
/** ms between RSS samples during the catch-up (besides the kernel's high-water mark). */
const RSS_SAMPLE_MS = 50;

/** Polls /health from the spawn until it answers 200; resolves with ms since the spawn. */
async function firstHealthAnswer(url: string, launch: DaemonLaunch, timeoutMs: number): Promise<number> {
  const deadline = launch.spawnedAt + timeoutMs;
  while (nowMs() < deadline) {
    if (launch.proc.exitCode !== null) throw new Error(`the restarted daemon exited with ${launch.proc.exitCode}`);
    const probe = await probeHealth(url, false, 1_000);
    if (probe.status === 200) return nowMs() - launch.spawnedAt;
    await sleep(FIRST_ANSWER_POLL_MS);
  }
  throw new Error(`the restarted daemon did not answer /health within ${timeoutMs} ms`);
}

/** Runs the catch-up scenario once. */
export async function runCatchup(ctx: BenchContext, run: number): Promise<void> {
  const { sizes, results, plan } = ctx;
  const label = `Beep catch-up (run ${run})`;
  const pending = sizes.catchupPending;
  const ports = await freePorts();
  let daemon: BeepDaemon = await launchDaemon(plan, { ports }).ready;
  let launch: DaemonLaunch | undefined;
  try {
    const phone = await pairDevice(daemon, 'bench catch-up phone', clientAddress(0));
    ctx.progress(`${label}: posting ${pending} for the offline phone`);
    const poster = new HttpPoster({ url: `${daemon.adminUrl}/api/v1/notifications`, headers: { authorization: `Bearer ${daemon.adminToken}` } }, sizes.concurrency);
    const outcome = await postFlatOut(poster, 'c', pending, sizes.concurrency);
    poster.close();
    recordPostProblems(ctx, `${label} posting`, outcome);

    ctx.progress(`${label}: kill -9, restart`);
    await killHard(daemon);
    launch = launchDaemon(plan, { dataDir: daemon.dataDir, ports });
    const healthUrl = `http://127.0.0.1:${ports.admin}/health`;
    results.add(F.CATCHUP_FIRST_HEALTH_MS, 'beep', await firstHealthAnswer(healthUrl, launch, 60_000));
    daemon = await launch.ready;
    await sleep(daemon.readyAt + sizes.idleWaitMs - nowMs());
    const pid = daemon.proc.pid!;
    const idle = toMb(rssBytes(pid));

    ctx.progress(`${label}: the phone connects and catches up`);
    const fleet = new PhoneFleet({ protocol: 'beep', url: daemon.gatewayUrl, ca: daemon.caPem, tokens: [phone.accessToken] }, 1);
    try {
      await fleet.beginPhase('c', pending, false);
      const prober = new HealthProber(healthUrl, sizes.healthProbeMs, PROBE_TIMEOUT_MS);
      await prober.started;
      const peak = new PeakRss(pid, RSS_SAMPLE_MS);
      const meter = new PhaseMeter(plan, [pid], sizes.saturatedAbove);
      const connect = await fleet.connect();
      const complete = await fleet.waitForAll(outcome.acceptedIndexes, sizes.catchupTimeoutMs);
      const usage = meter.finish();
      const peakMb = toMb(peak.finish());
      const probes = await prober.stop();
      const receipts = await fleet.endPhase(outcome.acceptedIndexes);
      if (!complete) results.problems.push(`${label}: the phone had ${receipts.received} of ${outcome.accepted} after ${sizes.catchupTimeoutMs / 1000} s`);
      if (probes.failures > 0) results.problems.push(`${label}: ${probes.failures} of ${probes.times.length} /health probes did not answer 200`);
      results.problems.push(...fleet.lost().map((m) => `${label}: lost ${m}`));
      const counts = !usage.saturated;
      if (complete) results.add(F.CATCHUP_ALL_S, 'beep', (receipts.lastAt - connect.startedAt) / 1000, counts);
      results.add(F.CATCHUP_IDLE_MB, 'beep', idle);
      results.add(F.CATCHUP_PEAK_MB, 'beep', peakMb);
      if (idle !== undefined && peakMb !== undefined) results.add(F.CATCHUP_RSS_OVER_IDLE_MB, 'beep', peakMb - idle);
      results.add(F.CATCHUP_HEALTH_MAX_MS, 'beep', percentile(probes.times, 100), counts);
      results.add(F.CATCHUP_HEALTH_P99_MS, 'beep', percentile(probes.times, 99), counts);
      results.add(F.CATCHUP_HEALTH_PROBES, 'beep', probes.times.length);
      recordCores(ctx, label, F.CATCHUP_CLIENT_CORE, 'beep', usage);
    } finally {
      await fleet.close();
    }
  } finally {
    // A restart that never became ready is not `daemon`: kill it before removing the data dir.
    if (launch && launch.proc !== daemon.proc && launch.proc.exitCode === null) launch.proc.kill('SIGKILL');
    const code = await stopDaemon(daemon);
    if (code !== 0) results.problems.push(`${label}: exited with ${code} on SIGTERM`);
  }
}
