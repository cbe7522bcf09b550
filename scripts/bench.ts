import type { BenchContext } from './bench/bench-context';
import { killTrackedChildren } from './bench/child-processes';
import { pinBench, threadsOffCore } from './bench/cores';
import { benchOptions, USAGE, type BenchOptions } from './bench/options';
import { waitForQuietMachine } from './bench/proc-stats';
import { headerReport, resultsReport } from './bench/report';
import { Results } from './bench/results';
import { runCatchup } from './bench/scenario-catchup';
import { runCluster } from './bench/scenario-cluster';
import { runIngest } from './bench/scenario-ingest';
import { runPhones } from './bench/scenario-phones';

// `npm run bench`: issue 12's figures for Beep against two baselines on identical load — the
// afternoon relay (express + socket.io, one broadcast per post) and the same relay emitting
// per socket with an ack — the server pinned to CPU 0, this process (poster, phones in worker
// threads, /health prober) pinned to CPU 1; the informational cluster run puts its two nodes and
// redis-server all on CPU 0. Every selected scenario runs `runs` times, the
// systems interleaved, and the report prints medians, ratios and targets. Exits 1 if any
// notification was lost or refused, or a scenario failed. See `npm run bench -- --help`.

/** Cores of unrelated load below which the machine counts as quiet enough to start a scenario. */
const QUIET_CORES = 0.1;
/** CPUs of the split: the server's and the clients'. */
const SERVER_CPU = 0;
const CLIENT_CPU = 1;

const benchStarted = Date.now();
/** A progress line on stderr with the time since the start, so slow steps show. */
const progress = (message: string) => process.stderr.write(`  [${((Date.now() - benchStarted) / 1000).toFixed(0).padStart(4)} s] ${message}\n`);

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: stopping\n`);
    process.exit(130); // the 'exit' handler below kills whatever server is still running
  });
}
// Whatever ends the bench (a crash, a closed stdout), never leave a server running behind it.
process.on('exit', killTrackedChildren);

/** Runs one scenario; a failure is recorded and the bench goes on with the next one. */
async function attempt(ctx: BenchContext, label: string, quietWaitMs: number, scenario: () => Promise<void>): Promise<void> {
  if (quietWaitMs > 0) {
    await waitForQuietMachine(QUIET_CORES, quietWaitMs, (cores) =>
      progress(`${label}: other processes keep ${(cores * 100).toFixed(0)} % of a core busy; waiting up to ${quietWaitMs / 1000} s`),
    );
  }
  try {
    await scenario();
  } catch (error) {
    ctx.results.problems.push(`${label}: ${error instanceof Error ? error.message.split('\n').slice(0, 6).join('\n    ') : String(error)}`);
  }
}

async function main(options: BenchOptions): Promise<number> {
  const plan = { ...pinBench(SERVER_CPU, CLIENT_CPU), cpuProfileDir: options.cpuProfileDir };
  process.stdout.write(headerReport(options, plan));
  const { sizes, scenarios, systems } = options;
  const ctx: BenchContext = { plan, sizes, results: new Results(), progress };
  const parts = { fanout: scenarios.includes('fanout'), latency: scenarios.includes('latency') };
  const started = Date.now();
  for (let run = 1; run <= sizes.runs; run++) {
    progress(`run ${run} of ${sizes.runs}`);
    if (scenarios.includes('ingest')) {
      for (const kind of systems) await attempt(ctx, `${kind} ingest run ${run}`, sizes.quietWaitMs, () => runIngest(ctx, kind, run));
    }
    if (parts.fanout || parts.latency) {
      for (const phones of sizes.phoneCounts) {
        for (const kind of systems) {
          await attempt(ctx, `${kind} ${phones} phones run ${run}`, sizes.quietWaitMs, () => runPhones(ctx, kind, phones, parts, run));
        }
      }
    }
    if (scenarios.includes('cluster')) {
      const oneNode = parts.fanout && parts.latency && systems.includes('beep') && sizes.phoneCounts.includes(sizes.clusterPhones);
      await attempt(ctx, `cluster run ${run}`, sizes.quietWaitMs, () => runCluster(ctx, run, oneNode));
    }
    if (scenarios.includes('catchup') && systems.includes('beep')) {
      await attempt(ctx, `catch-up run ${run}`, sizes.quietWaitMs, () => runCatchup(ctx, run));
    }
  }
  if (!plan.unpinned) {
    const off = threadsOffCore(plan.clientCpu);
    if (off.length > 0) ctx.results.problems.push(`bench threads not pinned to CPU ${plan.clientCpu}: ${off.join(', ')}`);
  }
  process.stdout.write(resultsReport(ctx.results, options));
  const failed = ctx.results.problems.length > 0;
  process.stdout.write(`took ${((Date.now() - started) / 60_000).toFixed(1)} min\n`);
  process.stdout.write(failed ? 'RESULT: FAILED (see FAILED lines above)\n' : 'RESULT: ok, every accepted notification reached every phone\n');
  return failed ? 1 : 0;
}

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
let options: BenchOptions;
try {
  options = benchOptions(process.argv.slice(2), process.env);
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(2);
}
main(options).then(
  (code) => {
    process.exitCode = code;
    // Everything is closed by now; if a stray handle kept the loop alive, do not hang the shell.
    setTimeout(() => {
      process.stderr.write('bench: handles still open after the run; exiting anyway\n');
      process.exit(code);
    }, 5000).unref();
  },
  (error) => {
    process.stderr.write(`bench crashed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
