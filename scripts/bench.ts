import { startBaseline } from './bench/baseline-process';
import { startBeep } from './bench/beep-relay';
import { killTrackedChildren } from './bench/child-processes';
import type { ReceiptSink } from './bench/receipts';
import type { RelayUnderTest } from './bench/relay-under-test';
import { machineReport, notesReport, tableReport } from './bench/report';
import { runScenario, type SystemResult } from './bench/scenario';
import { benchSizes } from './bench/sizes';

// `npm run bench`: Beep against a minimal express + socket.io baseline on the same scenario
// (scripts/bench/scenario.ts), 10 then 100 clients; prints one table per client count and
// exits 1 if any scenario failed. BENCH_QUICK=1 shrinks the sizes for a smoke run.

const quick = process.env.BENCH_QUICK === '1';
const sizes = benchSizes(quick);

/** ms a signalled bench waits for the relay to stop cleanly (PROTOCOL.md: the daemon stops within 5 s). */
const STOP_PATIENCE_MS = 6_000;

/** The relay currently running, so Ctrl-C can stop it instead of leaving a child behind. */
let running: RelayUnderTest | null = null;

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: stopping the relay under test\n`);
    const stopping = running ? running.stop() : Promise.resolve(null);
    // A relay that ignores SIGTERM gets SIGKILL from the 'exit' handler below.
    const patience = new Promise((r) => setTimeout(r, STOP_PATIENCE_MS));
    void Promise.race([stopping, patience]).finally(() => process.exit(130));
  });
}
// Whatever ends the bench (a crash, a closed stdout), never leave a relay running behind it.
process.on('exit', killTrackedChildren);

async function main(): Promise<number> {
  process.stdout.write(machineReport(sizes, quick));
  const systems: [string, (clients: number, sink: ReceiptSink) => Promise<RelayUnderTest>][] = [
    ['beep', (clients, sink) => startBeep(clients, sink, sizes.metricsScrapes)],
    ['baseline', (clients, sink) => startBaseline(clients, sink)],
  ];
  let failed = false;
  for (const clients of sizes.clientCounts) {
    const results = new Map<string, SystemResult | Error>();
    for (const [name, start] of systems) {
      try {
        const result = await runScenario(start, name, clients, sizes, (relay) => (running = relay));
        if (result.problems.length > 0) failed = true;
        results.set(name, result);
      } catch (error) {
        failed = true;
        results.set(name, error instanceof Error ? error : new Error(String(error)));
      }
    }
    process.stdout.write(`\n${tableReport(clients, results, sizes)}`);
  }
  process.stdout.write(`\n${notesReport()}`);
  process.stdout.write(failed ? 'RESULT: FAILED (see FAILED lines above)\n' : 'RESULT: ok, every accepted notification reached every client\n');
  return failed ? 1 : 0;
}

main().then(
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
