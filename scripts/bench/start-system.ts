import { startBeep } from './beep-system';
import { allowedCpus, type CorePlan } from './cores';
import { startCluster } from './cluster-system';
import { startRelay } from './relay-system';
import type { SystemKind, SystemUnderTest } from './system';

/** Starts a fresh `kind` on the server core, and checks that each of its processes is pinned there. */
export async function startSystem(kind: SystemKind, plan: CorePlan): Promise<SystemUnderTest> {
  const system = kind === 'beep' ? await startBeep(plan) : kind === 'cluster' ? await startCluster(plan) : await startRelay(plan, kind);
  for (const pid of system.pids) {
    const allowed = allowedCpus(pid);
    if (!plan.unpinned && allowed !== String(plan.serverCpu)) {
      await system.stop();
      throw new Error(`${kind} (pid ${pid}) runs on CPUs ${allowed}, not on CPU ${plan.serverCpu} alone`);
    }
  }
  return system;
}
