// The V8 flags the daemon runs with. V8 sizes its heap before any script runs, so they go on
// node's command line, and every way Beep starts the daemon passes the same ones: the service
// units (service/unit-files.ts), `npm start` (package.json; a test checks it), the tests'
// daemons and the bench. `beep start` typed by hand runs without them unless NODE_OPTIONS has
// them (README, "Memory watch").

/**
 * --max-semi-space-size=8: V8's young generation stops growing at two 8 MB semi-spaces (16 MB)
 * instead of two 16 MB ones. Any load grows it to its maximum, and it stays there until V8's
 * memory reducer runs, so the default's extra 16 MB was RSS held through every busy stretch.
 * Measured pinned to one core (bench, beep only, 2-run medians, A/B in one session): RSS with
 * 1000 phones connected 147 against 156 MB, a 100,000 catch-up's peak 46 against 60 MB above
 * idle, and no CPU lost: in those pairs ingest and fan-out CPU per item were 20-27 % lower (the
 * smaller young generation is collected more often, each collection touching less memory); the
 * three-run against the relay afterwards showed the CPU ratios no better.
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8'];

/** The young generation's growth factor node's own arguments set (`--semi-space-growth-factor=3`, `--semi_space_growth_factor 3`), if any: start-up-heap.ts leaves it alone. */
export function givenGrowthFactor(execArgv: readonly string[]): string | undefined {
  let given: string | undefined;
  execArgv.forEach((arg, i) => {
    const match = /^--semi[-_]space[-_]growth[-_]factor(?:=(.*))?$/.exec(arg);
    if (match) given = match[1] ?? execArgv[i + 1];
  });
  return given;
}
