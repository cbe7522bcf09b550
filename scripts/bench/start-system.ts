import { startBeep } from './beep-system';
import type { CorePlan } from './cores';
import { startRelay } from './relay-system';
import type { SystemKind, SystemUnderTest } from './system';

/** Starts a fresh process of `kind` on the server core. */
export function startSystem(kind: SystemKind, plan: CorePlan): Promise<SystemUnderTest> {
  return kind === 'beep' ? startBeep(plan) : startRelay(plan, kind);
}
