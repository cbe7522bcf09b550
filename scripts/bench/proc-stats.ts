import fs from 'node:fs';

// Peak memory and CPU time of a relay child, read from /proc (Linux), with a sampling fallback.

/** Bytes of a `Vm*:   1234 kB` line of /proc/<pid>/status, or undefined when unreadable. */
function statusBytes(pid: number, field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** User+system CPU seconds a process has used so far (from /proc/<pid>/stat), or undefined. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks / 100 : undefined; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/** Tracks a child's peak RSS: VmHWM when the kernel offers it, else the highest 200 ms sample. */
export class PeakRss {
  private sampled = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number) {
    this.timer = setInterval(() => this.sample(), 200);
    this.timer.unref();
    this.sample();
  }

  /** Peak resident bytes so far; call before the process exits (VmHWM dies with it). */
  read(): number | undefined {
    this.sample();
    const hwm = statusBytes(this.pid, 'VmHWM');
    return hwm ?? (this.sampled > 0 ? this.sampled : undefined);
  }

  /** Stops sampling. */
  stop(): void {
    clearInterval(this.timer);
  }

  private sample(): void {
    const rss = statusBytes(this.pid, 'VmRSS');
    if (rss !== undefined && rss > this.sampled) this.sampled = rss;
  }
}

/** CPU seconds all processes of the machine have used (busy jiffies of /proc/stat), or undefined. */
export function machineBusySeconds(): number | undefined {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
    const busy = user + nice + system + irq + softirq + steal;
    return Number.isFinite(busy) ? busy / 100 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds this bench process (clients and load generator) has used. */
export function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/**
 * Waits (up to `maxWaitMs`) until the rest of the machine uses less than `maxCores` CPU, so a
 * run does not start on top of someone else's build; resolves with the last load seen.
 */
export async function waitForQuietMachine(maxCores: number, maxWaitMs: number, onWait: (cores: number) => void): Promise<number | undefined> {
  const deadline = Date.now() + maxWaitMs;
  let warned = false;
  for (;;) {
    const machineBefore = machineBusySeconds();
    const ownBefore = ownCpuSeconds();
    await new Promise((r) => setTimeout(r, 1000));
    const machineAfter = machineBusySeconds();
    if (machineBefore === undefined || machineAfter === undefined) return undefined;
    const cores = Math.max(0, machineAfter - machineBefore - (ownCpuSeconds() - ownBefore));
    if (cores < maxCores || Date.now() > deadline) return cores;
    if (!warned) onWait(cores);
    warned = true;
  }
}
