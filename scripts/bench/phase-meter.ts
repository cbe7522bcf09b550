import { nowMs } from './clock';
import { busyShare, coreTimes, type CorePlan, type CoreTimes } from './cores';
import { cpuSeconds, ownCpuSeconds } from './proc-stats';

// What one measured phase cost on each side: the server's CPU time, and how busy each core
// was (anyone's load, from /proc/stat). A phase whose client core was saturated measured the
// clients, not the server, so it does not count.

/** The cost of one phase, from its start to finish(). */
export interface PhaseUsage {
  elapsedMs: number;
  /** CPU seconds the server's processes used (every thread). */
  serverCpuSec: number | undefined;
  /** The same per process, in the order of the pids the meter was given. */
  cpuSecByPid: (number | undefined)[];
  /** Share (0..1) of the server core that was busy, whoever used it. */
  serverCoreBusy: number | undefined;
  /** Share (0..1) of the client core that was busy, whoever used it. */
  clientCoreBusy: number | undefined;
  /** Share of one core this bench process (poster, phones, prober) used. */
  benchBusy: number;
  /** The client core was busier than the threshold: the phase measured the clients. */
  saturated: boolean;
}

/** Started at the beginning of a phase; finish() when its last receipt is in. */
export class PhaseMeter {
  private readonly startedAt: number;
  private readonly cpuBefore: (number | undefined)[];
  private readonly serverCore: CoreTimes | undefined;
  private readonly clientCore: CoreTimes | undefined;
  private readonly own: number;

  constructor(
    private readonly plan: CorePlan,
    private readonly serverPids: number[],
    private readonly saturatedAbove: number,
  ) {
    this.startedAt = nowMs();
    this.cpuBefore = serverPids.map(cpuSeconds);
    this.serverCore = coreTimes(plan.serverCpu);
    this.clientCore = coreTimes(plan.clientCpu);
    this.own = ownCpuSeconds();
  }

  /** The usage from construction until now. */
  finish(): PhaseUsage {
    const elapsedMs = nowMs() - this.startedAt;
    const cpuSecByPid = this.serverPids.map((pid, i) => {
      const [before, after] = [this.cpuBefore[i], cpuSeconds(pid)];
      return before !== undefined && after !== undefined ? after - before : undefined;
    });
    const clientCoreBusy = this.plan.unpinned ? undefined : busyShare(this.clientCore, coreTimes(this.plan.clientCpu));
    return {
      elapsedMs,
      serverCpuSec: cpuSecByPid.some((c) => c === undefined) ? undefined : cpuSecByPid.reduce<number>((sum, c) => sum + c!, 0),
      cpuSecByPid,
      serverCoreBusy: this.plan.unpinned ? undefined : busyShare(this.serverCore, coreTimes(this.plan.serverCpu)),
      clientCoreBusy,
      benchBusy: ((ownCpuSeconds() - this.own) * 1000) / elapsedMs,
      saturated: clientCoreBusy !== undefined && clientCoreBusy > this.saturatedAbove,
    };
  }
}
