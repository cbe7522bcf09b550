import fs from 'node:fs';

// CPU time and memory of a server process, read from /proc (Linux).

/** Bytes of a `Vm*:   1234 kB` line of /proc/<pid>/status, or undefined when unreadable. */
export function statusBytes(pid: number, field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Resident bytes of a process now. */
export function rssBytes(pid: number): number | undefined {
  return statusBytes(pid, 'VmRSS');
}

/** Resident bytes of several processes together (a cluster's nodes and Redis), or undefined when one is unreadable. */
export function totalRssBytes(pids: number[]): number | undefined {
  const each = pids.map(rssBytes);
  return each.some((b) => b === undefined) ? undefined : each.reduce<number>((sum, b) => sum + b!, 0);
}

/** User+system CPU seconds a process (all its threads) has used so far, or undefined. */
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

/** CPU seconds this bench process (poster, phones, prober: every thread) has used. */
export function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/**
 * Peak RSS of a process over a stretch of time: the kernel's high-water mark is reset at the
 * start (clear_refs 5, allowed for our own children) and read at the end, and VmRSS is sampled
 * meanwhile in case the reset was refused.
 */
export class PeakRss {
  private sampled = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly hwmReset: boolean;

  constructor(
    private readonly pid: number,
    sampleMs: number,
  ) {
    try {
      fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
      this.hwmReset = true;
    } catch {
      this.hwmReset = false;
    }
    this.timer = setInterval(() => this.sample(), sampleMs);
    this.sample();
  }

  /** Peak resident bytes since construction; stops sampling. Call before the process exits. */
  finish(): number | undefined {
    clearInterval(this.timer);
    this.sample();
    const hwm = this.hwmReset ? statusBytes(this.pid, 'VmHWM') : undefined;
    const peak = Math.max(hwm ?? 0, this.sampled);
    return peak > 0 ? peak : undefined;
  }

  private sample(): void {
    const rss = rssBytes(this.pid);
    if (rss !== undefined && rss > this.sampled) this.sampled = rss;
  }
}

/** CPU seconds all processes of the machine have used (busy jiffies of /proc/stat), or undefined. */
function machineBusySeconds(): number | undefined {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
    const busy = user + nice + system + irq + softirq + steal;
    return Number.isFinite(busy) ? busy / 100 : undefined;
  } catch {
    return undefined;
  }
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
