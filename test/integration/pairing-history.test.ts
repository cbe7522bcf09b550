import { startDaemon, type RunningDaemon } from '../helpers/daemon';
import { pair, Phone } from '../helpers/phone';

// Recent history at pairing: a phone that asks for it gets what arrived before it paired, once,
// in a separate `history` event (not acked, not counted as delivered, its topic filter applied);
// a code made with `--no-history` never hands it out, whatever the phone asks.

let daemon: RunningDaemon;

beforeAll(async () => {
  daemon = await startDaemon();
});
afterAll(async () => {
  await daemon?.stop();
});

async function send(body: Record<string, unknown>): Promise<string> {
  const res = await daemon.admin('POST', '/api/v1/notifications', body);
  expect(res.status).toBe(202);
  return res.body.id;
}

function delivered(metrics: string): number {
  return Number(/^beep_notifications_delivered_total (\d+)/m.exec(metrics)?.[1] ?? 0);
}

test('asked for at pairing: the recent ones of its topics, once, shown and not owed', async () => {
  const untopiced = await send({ title: 'earlier, for everyone' });
  const mine = await send({ title: 'earlier, my topic', topic: 'backups' });
  await send({ title: 'earlier, another topic', topic: 'chat' });
  // Dismissed on another phone before this one paired: not history any more.
  const other = await Phone.paired(daemon, 'other phone');
  await other.connect(daemon);
  const dismissed = await send({ title: 'earlier, dismissed' });
  await other.waitFor(() => other.unique.has(dismissed), 10_000, 'the one to dismiss');
  expect(await other.dismiss(dismissed)).toEqual({ ok: true });
  other.disconnect();
  const deliveredBefore = delivered((await daemon.admin('GET', '/metrics')).text);

  const phone = new Phone(await pair(daemon, 'history phone', { history: true, topics: ['backups'] }));
  await phone.connect(daemon);
  await phone.waitFor(() => phone.history.length === 1, 10_000, 'the history event');
  expect(phone.history[0].map((n) => n.id)).toEqual([untopiced, mine]);
  // Not owed: the sentinel arrives as a notification, none of the earlier ones does.
  await phone.sentinel(daemon);
  expect([...phone.unique.values()].map((n) => n.title)).toEqual(['sentinel']);
  expect(delivered((await daemon.admin('GET', '/metrics')).text)).toBe(deliveredBefore + 1);
  phone.disconnect();

  // Once: the next connection gets no history.
  const again = new Phone(phone.credentials);
  await again.connect(daemon);
  await again.sentinel(daemon);
  expect(again.history).toEqual([]);
  again.disconnect();
});

test('not asked for, or a --no-history code: no history event at all', async () => {
  await send({ title: 'before the quiet ones' });
  const notAsked = new Phone(await pair(daemon, 'did not ask'));
  const refusedByCode = new Phone(await pair(daemon, 'code says no', { history: true }, { history: false }));
  for (const phone of [notAsked, refusedByCode]) {
    await phone.connect(daemon);
    await phone.sentinel(daemon);
    expect(phone.history).toEqual([]);
    phone.disconnect();
  }
});

test('the pairing answer and the pairing link say whether history is offered', async () => {
  const offered = await daemon.admin('POST', '/api/v1/pairings');
  expect(offered.body.url).toMatch(/&h=12$/);
  const quiet = await daemon.admin('POST', '/api/v1/pairings', { history: false });
  expect(quiet.body.url).not.toContain('&h=');
  const answer = await daemon.gateway('POST', '/api/v1/pair', { code: quiet.body.code, name: 'x', history: true });
  expect(answer.status).toBe(201);
  expect(answer.body.history).toBe(false);
  const cli = await daemon.cli(['pair', '--no-history']);
  expect(cli.stdout).toContain('This code shows the phone nothing from before it pairs.');
});
