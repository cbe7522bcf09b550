import { createToken } from '../helpers/compat';
import type { RunningDaemon } from '../helpers/daemon';
import { type NodePair, usePair } from './two-nodes';

// One audit chain for the cluster, through two real daemons on a fresh B (only the master key
// copied): B joins A's chain (the audit key shared through Redis, its checkpoint started from the
// chain's verified head); what either node records lands in the one chain, which `beep audit
// verify` on either node finds whole, with entries from both.

jest.setTimeout(120_000);

let nodes: NodePair;

usePair({ phones: 0 }, (started) => ({ nodes } = started));

interface Entry { seq: number; event: string; details: Record<string, unknown> }

async function entries(node: RunningDaemon): Promise<Entry[]> {
  return (await node.admin<Entry[]>('GET', '/api/v1/audit?limit=500')).body;
}

test('entries recorded on A and on B form one chain that `beep audit verify` finds whole on both nodes', async () => {
  const { a, b } = nodes;
  for (let i = 0; i < 5; i++) {
    await createToken(a, 'publish', undefined, `made on A ${i}`);
    await createToken(b, 'publish', undefined, `made on B ${i}`);
  }
  const names = (list: Entry[]) => list.filter((e) => e.event === 'api_token_created').map((e) => String(e.details.name));
  // The audit log writes asynchronously: both nodes list every one of the ten, from either node.
  for (const node of [a, b]) {
    let listed: string[] = [];
    for (const deadline = Date.now() + 20_000; Date.now() < deadline && listed.length < 10; await new Promise((r) => setTimeout(r, 100))) listed = names(await entries(node));
    expect(listed.sort()).toEqual([0, 1, 2, 3, 4].flatMap((i) => [`made on A ${i}`, `made on B ${i}`]).sort());
  }
  const seqs = (await entries(a)).map((e) => e.seq);
  expect(new Set(seqs).size).toBe(seqs.length);
  for (const node of [a, b]) {
    const verified = await node.cli(['audit', 'verify']);
    expect({ status: verified.status, out: verified.stdout + verified.stderr }).toEqual({ status: 0, out: expect.stringContaining('audit log intact') });
  }
});
