import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { givenGrowthFactor } from '../../../app/node-flags';

// start-up-heap.ts holds V8's young generation at its first size while `beep start` loads its
// modules, and lets it grow again once released. V8's flags belong to the whole process, so the
// module runs in a child Node of its own (the compiled one `beep` runs), not in this test's.

const MODULE = path.resolve(__dirname, '..', '..', '..', 'dist', 'app', 'start-up-heap.js');

/** new_space's size after 600,000 objects that survive, with the module loaded or not, released or not. */
function newSpaceSizes(load: boolean, nodeArgs: string[] = []): { before: number; after: number } {
  const script = `
    const v8 = require('node:v8');
    const heap = ${load ? `require(${JSON.stringify(MODULE)})` : 'null'};
    const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
    const keep = [];
    const survive = (n) => { for (let i = 0; i < n; i++) keep.push({ i, s: 'x' + i }); };
    survive(600000);
    const before = newSpace();
    if (heap) heap.releaseYoungGeneration();
    survive(600000);
    process.stdout.write(JSON.stringify({ before, after: newSpace(), kept: keep.length }));
  `;
  const out = JSON.parse(execFileSync(process.execPath, [...nodeArgs, '-e', script], { encoding: 'utf8' })) as { before: number; after: number; kept: number };
  expect(out.kept).toBe(1_200_000);
  return out;
}

const MB = 1024 * 1024;

describe('start-up heap', () => {
  it('keeps the young generation small while held, and lets it grow once released', () => {
    // Without the module, what start-up-like allocation does to new space: it grows (the control).
    const plain = newSpaceSizes(false);
    expect(plain.before).toBeGreaterThanOrEqual(16 * MB);

    const held = newSpaceSizes(true);
    expect(held.before).toBeLessThanOrEqual(4 * MB);
    expect(held.after).toBeGreaterThanOrEqual(16 * MB);
  });

  it("leaves a growth factor given on node's command line alone: no hold, nothing set back", () => {
    const given = newSpaceSizes(true, ['--semi-space-growth-factor=4']);
    expect(given.before).toBeGreaterThanOrEqual(16 * MB);
  });

  it('reads the growth factor from node arguments in both spellings V8 takes', () => {
    expect(givenGrowthFactor([])).toBeUndefined();
    expect(givenGrowthFactor(['--max-semi-space-size=8'])).toBeUndefined();
    expect(givenGrowthFactor(['--max-semi-space-size=8', '--semi-space-growth-factor=3'])).toBe('3');
    expect(givenGrowthFactor(['--semi_space_growth_factor', '4'])).toBe('4');
  });
});
