import v8 from 'node:v8';
import { givenGrowthFactor } from './node-flags';

// Start-up's young generation. Loading ~680 modules makes objects that mostly live on, and V8
// doubles its young generation (the semi-spaces) after each scavenge that keeps most of what it
// scanned: by the end of `beep start` new space had grown to 34 MB, which an idle daemon held
// until V8's memory reducer ran, 8 to 16 s later (86-88 MB of RSS 10 s after ready, 72 MB after).
// Held at its first size while start-up runs (a growth factor of 1), start-up costs ~30 more
// scavenges of a small new space and ready comes no later (measured, pinned to one core); RSS 3 s
// after ready is 76 MB. Released to V8's default factor once the daemon runs, so that under load
// the young generation grows as it always did.
//
// main.ts imports this module before any other: the import is the hold. A growth factor given
// on node's command line is the user's choice: then there is no hold, and nothing is set back.

/** V8's default growth factor of the young generation (--semi-space-growth-factor). */
export const V8_SEMI_SPACE_GROWTH = 2;

let held = givenGrowthFactor(process.execArgv) === undefined;
if (held) v8.setFlagsFromString('--semi-space-growth-factor=1');

/** Lets the young generation grow again (idempotent): once the daemon runs, or for any other command. */
export function releaseYoungGeneration(): void {
  if (!held) return;
  held = false;
  v8.setFlagsFromString(`--semi-space-growth-factor=${V8_SEMI_SPACE_GROWTH}`);
}
