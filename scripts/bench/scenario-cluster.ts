import type { BenchContext } from './bench-context';
import { runPhones } from './scenario-phones';

// The informational cluster run (issue 15): the phones scenario on two nodes and their
// redis-server, all pinned to the server core, against one embedded node on the same load. No
// target: on two cores the cluster shares one core three ways, so it shows the cost of the
// shared store, not the capacity a second machine would add.

/**
 * Runs the phones scenario at `sizes.clusterPhones` on the cluster, and on one node unless
 * this run already measures one node at that count (`oneNodeMeasured`).
 */
export async function runCluster(ctx: BenchContext, run: number, oneNodeMeasured: boolean): Promise<void> {
  const phones = ctx.sizes.clusterPhones;
  const parts = { fanout: true, latency: true };
  if (!oneNodeMeasured) await runPhones(ctx, 'beep', phones, parts, run);
  await runPhones(ctx, 'cluster', phones, parts, run);
}
