import { startBeep } from './beep-system';
import { allowedCpus, type CorePlan } from './cores';
import { startRelay } from './relay-system';
import type { SystemKind, SystemUnderTest } from './system';

/** Starts a fresh process of `kind` on the server core, and checks that it is pinned there. */
export async function startSystem(kind: SystemKind, plan: CorePlan): Promise<SystemUnderTest> {
  const system = kind === 'beep' ? await startBeep(plan) : await startRelay(plan, kind);
  const allowed = allowedCpus(system.pid);
  if (!plan.unpinned && allowed !== String(plan.serverCpu)) {
    await system.stop();
    throw new Error(`${kind} runs on CPUs ${allowed}, not on CPU ${plan.serverCpu} alone`);
  }
  return system;
}
