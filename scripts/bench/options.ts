import { benchSizes, type BenchSizes } from './sizes';
import { SYSTEM_KINDS, type SystemKind } from './system';

// What this run measures, from the command line and the environment (the bench is a script,
// not the daemon: it reads its own BENCH_* variables here and nowhere else).

/** The scenarios, in the order a run goes through them. */
export const SCENARIOS = ['ingest', 'fanout', 'latency', 'cluster', 'catchup'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** Everything a run needs to know about itself. */
export interface BenchOptions {
  quick: boolean;
  scenarios: ScenarioName[];
  systems: SystemKind[];
  sizes: BenchSizes;
  /** BENCH_CPU_PROF: Beep daemons write a V8 CPU profile there when they stop (for finding costs, not for figures). */
  cpuProfileDir?: string;
}

export const USAGE = `usage: npm run bench [-- <scenario>…]       (scenarios: ${SCENARIOS.join(', ')}; default all)
  BENCH_QUICK=1            smoke run: every scenario small, one run (numbers not meaningful)
  BENCH_ONLY=fanout,…      same as naming scenarios on the command line
  BENCH_PHONES=100,1000    phone counts of fanout and latency
  BENCH_SYSTEMS=beep,…     systems to run (${SYSTEM_KINDS.join(', ')}); the targets need beep and relay
  BENCH_RUNS=3             runs per figure (the median is reported)
  BENCH_CPU_PROF=<dir>     Beep writes a V8 CPU profile (.cpuprofile) there when it stops (profiling slows it: no figures)
scenario cluster (informational): two nodes and their redis-server on the server core, the phones split
  between them and the posts alternating, against one node on the same load (needs /usr/bin/redis-server)`;

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function positiveIntegers(name: string, values: string[], problems: string[]): number[] {
  const numbers = values.map(Number);
  if (numbers.some((n) => !Number.isInteger(n) || n < 1)) problems.push(`${name}: expected positive integers, got "${values.join(',')}"`);
  return numbers;
}

/** Reads argv (scenario names) and BENCH_* variables; throws with the usage on anything unknown. */
export function benchOptions(argv: string[], env: Record<string, string | undefined>): BenchOptions {
  const problems: string[] = [];
  const quick = env.BENCH_QUICK === '1';
  const sizes = { ...benchSizes(quick) };
  const named = [...argv, ...list(env.BENCH_ONLY)];
  for (const n of named) if (!(SCENARIOS as readonly string[]).includes(n)) problems.push(`unknown scenario "${n}"`);
  const scenarios = named.length > 0 ? SCENARIOS.filter((s) => named.includes(s)) : [...SCENARIOS];
  const systems = env.BENCH_SYSTEMS ? list(env.BENCH_SYSTEMS) : [...SYSTEM_KINDS];
  for (const s of systems) if (!(SYSTEM_KINDS as readonly string[]).includes(s)) problems.push(`unknown system "${s}"`);
  if (env.BENCH_PHONES) sizes.phoneCounts = positiveIntegers('BENCH_PHONES', list(env.BENCH_PHONES), problems);
  if (env.BENCH_RUNS) sizes.runs = positiveIntegers('BENCH_RUNS', [env.BENCH_RUNS], problems)[0];
  if (problems.length > 0) throw new Error(`${problems.join('\n')}\n${USAGE}`);
  return { quick, scenarios, systems: SYSTEM_KINDS.filter((k) => systems.includes(k)), sizes, cpuProfileDir: env.BENCH_CPU_PROF || undefined };
}
