import { nowMs } from './clock';
import { busyShare, coreTimes, type CorePlan, type CoreTimes } from './cores';
import { cpuSeconds, ownCpuSeconds } from './proc-stats';

// What one measured phase cost on each side: the server's CPU time, and how busy each core
// was (anyone's load, from /proc/stat). A phase whose client core was saturated measured the
// clients, not the server, so it does not count.

/** The cost of one phase, from its start to finish(). */
export interface PhaseUsage {
  elapsedMs: number;
  /** CPU seconds the server process used (every thread). */
  serverCpuSec: number | undefined;
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
  private readonly serverCpu: number | undefined;
  private readonly serverCore: CoreTimes | undefined;
  private readonly clientCore: CoreTimes | undefined;
  private readonly own: number;

  constructor(
    private readonly plan: CorePlan,
    private readonly serverPid: number,
    private readonly saturatedAbove: number,
  ) {
    this.startedAt = nowMs();
    this.serverCpu = cpuSeconds(serverPid);
    this.serverCore = coreTimes(plan.serverCpu);
    this.clientCore = coreTimes(plan.clientCpu);
    this.own = ownCpuSeconds();
  }

  /** The usage from construction until now. */
  finish(): PhaseUsage {
    const elapsedMs = nowMs() - this.startedAt;
    const serverCpu = cpuSeconds(this.serverPid);
    const clientCoreBusy = this.plan.unpinned ? undefined : busyShare(this.clientCore, coreTimes(this.plan.clientCpu));
    return {
      elapsedMs,
      serverCpuSec: serverCpu !== undefined && this.serverCpu !== undefined ? serverCpu - this.serverCpu : undefined,
      serverCoreBusy: this.plan.unpinned ? undefined : busyShare(this.serverCore, coreTimes(this.plan.serverCpu)),
      clientCoreBusy,
      benchBusy: ((ownCpuSeconds() - this.own) * 1000) / elapsedMs,
      saturated: clientCoreBusy !== undefined && clientCoreBusy > this.saturatedAbove,
    };
  }
}
