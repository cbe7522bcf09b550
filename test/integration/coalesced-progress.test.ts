import { startDaemon, type RunningDaemon } from '../helpers/daemon';
import { Phone } from '../helpers/phone';

// Acks are written coalesced (every device that moved within 200 ms in one commit), and at a
// clean stop. What a kill -9 can cost: acks not yet written are sent again (the phone dedupes by
// id), and nothing unacknowledged is ever lost.

const N = 40;

async function postN(daemon: RunningDaemon, tag: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < N; i++) {
    const res = await daemon.admin('POST', '/api/v1/notifications', { title: `${tag} ${i}`, priority: (i % 5) + 1 });
    expect(res.status).toBe(202);
    ids.push(res.body.id);
  }
  return ids;
}

/** Waits until the daemon has processed the phone's acks (its device list counts nothing owed). */
async function owedNothing(daemon: RunningDaemon, phone: Phone, owed = 0): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const devices = (await daemon.admin('GET', '/api/v1/devices')).body as { id: string; pending: number }[];
    if (devices.find((d) => d.id === phone.credentials.deviceId)?.pending === owed) return;
    if (Date.now() > deadline) throw new Error('the acks never landed');
    await new Promise((r) => setTimeout(r, 50));
  }
}

let daemon: RunningDaemon;
afterAll(async () => {
  await daemon?.stop();
});

test('acks are written at a clean stop: nothing acknowledged is sent again after the restart', async () => {
  daemon = await startDaemon();
  const phone = await Phone.paired(daemon, 'clean stop');
  const ids = await postN(daemon, 'stop');
  await phone.connect(daemon);
  await phone.waitFor(() => ids.every((id) => phone.unique.has(id)), 15_000, 'all of them');
  await owedNothing(daemon, phone);
  phone.disconnect();
  expect(await daemon.stop()).toBe(0);

  daemon = await daemon.restart();
  const again = new Phone(phone.credentials);
  await again.connect(daemon);
  await again.sentinel(daemon);
  again.disconnect();
  expect(ids.filter((id) => again.unique.has(id))).toEqual([]);
});

test('kill -9 right after acks: those may come again, and what was not acked always does', async () => {
  const phone = await Phone.paired(daemon, 'killed');
  const ids = await postN(daemon, 'kill');
  const acked = new Set(ids.slice(0, N / 2));
  phone.ackPolicy = (items) => items.filter((n) => acked.has(n.id)).map((n) => n.id);
  await phone.connect(daemon);
  await phone.waitFor(() => ids.every((id) => phone.unique.has(id)), 15_000, 'all of them');
  await owedNothing(daemon, phone, N / 2);
  await daemon.kill(); // within the 200 ms the acks may wait for their write

  daemon = await daemon.restart();
  const again = new Phone(phone.credentials);
  await again.connect(daemon);
  await again.sentinel(daemon);
  again.disconnect();
  // Never lost: every one not acknowledged comes again after the kill (the acked ones may too).
  for (const id of ids.filter((id) => !acked.has(id))) expect(again.unique.has(id)).toBe(true);
});
