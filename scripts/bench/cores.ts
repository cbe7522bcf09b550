import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

// The bench's core split: the server under test (Beep or a relay) on one core, this bench
// process (poster, phones in worker threads, /health prober) on the other, so neither steals
// the other's CPU and each side's load can be read from /proc/stat per core.

/** Which core the server gets, which the clients get, and why pinning is off if it is. */
export interface CorePlan {
  serverCpu: number;
  clientCpu: number;
  /** Why the run is not pinned (not Linux, one CPU, no taskset); undefined when it is. */
  unpinned?: string;
  /** Where Beep writes a V8 CPU profile at exit (BENCH_CPU_PROF); undefined: not profiled. */
  cpuProfileDir?: string;
}

/** Cpus_allowed_list of a process or thread (a pid, 'self', 'self/task/<tid>'), e.g. "1" or "0-1". */
export function allowedCpus(pid: number | string): string | undefined {
  try {
    return /^Cpus_allowed_list:\s*(\S+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** Threads of this process (worker threads included) allowed on other CPUs than `cpu`, as "tid: cpus". */
export function threadsOffCore(cpu: number): string[] {
  try {
    return fs
      .readdirSync('/proc/self/task')
      .map((tid) => `${tid}: ${allowedCpus(`self/task/${tid}`) ?? '?'}`)
      .filter((line) => !line.endsWith(`: ${cpu}`));
  } catch {
    return [];
  }
}

/** Pins every thread of this process (and so every thread and child it starts) to the client core. */
export function pinBench(serverCpu: number, clientCpu: number): CorePlan {
  const plan = { serverCpu, clientCpu };
  if (process.platform !== 'linux') return { ...plan, unpinned: 'not Linux: no taskset, no per-core /proc/stat' };
  if (os.cpus().length < 2) return { ...plan, unpinned: 'fewer than 2 CPUs' };
  // -a: every existing thread; threads and children started later inherit the mask.
  const result = spawnSync('taskset', ['-a', '-p', '-c', String(clientCpu), String(process.pid)], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    return { ...plan, unpinned: `taskset failed: ${result.error?.message ?? result.stderr.trim()}` };
  }
  const allowed = allowedCpus('self');
  if (allowed !== String(clientCpu)) return { ...plan, unpinned: `taskset left this process on CPUs ${allowed}` };
  return plan;
}

/** The command line that starts a server process on the server core (`taskset -c <cpu> node …`). */
export function serverCommand(plan: CorePlan, args: string[]): { command: string; args: string[] } {
  if (plan.unpinned) return { command: process.execPath, args };
  return { command: 'taskset', args: ['-c', String(plan.serverCpu), process.execPath, ...args] };
}

/** Busy and total jiffies of one CPU since boot (/proc/stat). */
export interface CoreTimes {
  busy: number;
  total: number;
}

/** The current jiffies of `cpu`, or undefined off Linux. */
export function coreTimes(cpu: number): CoreTimes | undefined {
  try {
    const line = fs
      .readFileSync('/proc/stat', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`cpu${cpu} `));
    if (!line) return undefined;
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    const busy = user + nice + system + irq + softirq + steal;
    return { busy, total: busy + idle + iowait };
  } catch {
    return undefined;
  }
}

/** Share (0..1) of the time `cpu` was busy between two readings, whoever kept it busy. */
export function busyShare(before: CoreTimes | undefined, after: CoreTimes | undefined): number | undefined {
  if (!before || !after || after.total <= before.total) return undefined;
  return (after.busy - before.busy) / (after.total - before.total);
}
