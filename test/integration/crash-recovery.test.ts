import http from 'node:http';
import { startDaemon, type RunningDaemon } from '../helpers/daemon';
import { Phone } from '../helpers/phone';

// kill -9 in the middle of 5000 concurrent posts: every post that got a 202 is delivered
// after the restart. The guarantee under test is BRIEF.md's "accepted = committed".

const TOTAL = 5000;
const CONCURRENCY = 32;
const KILL_AFTER = 2000;

function post(port: number, agent: http.Agent, token: string, i: number): Promise<number> {
  const body = JSON.stringify({ title: `crash #${i}`, priority: (i % 5) + 1, id: `crash-${i}` });
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/api/v1/notifications',
        method: 'POST',
        agent,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0)); // the daemon died under it: not accepted, not owed
    req.end(body);
  });
}

describe('crash recovery', () => {
  let daemon: RunningDaemon;

  afterAll(async () => {
    await daemon?.stop();
  });

  test('every 202 survives kill -9 and reaches the phone after restart', async () => {
    daemon = await startDaemon();
    // One phone is online (and acks) during the run, one is away until after the restart.
    const phone = await Phone.paired(daemon, 'crash phone');
    await phone.connect(daemon);
    const away = await Phone.paired(daemon, 'away phone');

    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const accepted = new Set<string>();
    const statuses = new Map<number, number>();
    let next = 0;
    let killed: Promise<void> | undefined;
    const port = daemon.runtime.adminPort;
    async function worker() {
      while (next < TOTAL) {
        const i = next++;
        const status = await post(port, agent, daemon.adminToken, i);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status === 202) accepted.add(`crash-${i}`);
        if (accepted.size >= KILL_AFTER && !killed) killed = daemon.kill();
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    agent.destroy();
    await killed;

    // The kill really landed mid-stream: some posts were accepted, some failed.
    expect(accepted.size).toBeGreaterThanOrEqual(KILL_AFTER);
    expect(accepted.size).toBeLessThan(TOTAL);
    expect(statuses.get(0) ?? 0).toBeGreaterThan(0);
    // Nothing was answered with anything but 202 or a dropped connection.
    expect([...statuses.keys()].sort()).toEqual([0, 202]);

    phone.disconnect();
    daemon = await daemon.restart();
    await phone.connect(daemon);
    await away.connect(daemon);
    for (const p of [phone, away]) {
      await p.waitFor(() => [...accepted].every((id) => p.unique.has(id)), 30_000, 'every accepted post');
    }
    phone.disconnect();
    away.disconnect();
    // Everything the away phone got came from the outbox on disk, after the restart.
    expect(away.unique.size).toBeGreaterThanOrEqual(accepted.size);
  });
});
