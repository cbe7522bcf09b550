import { Phone } from '../helpers/phone';
import { createToken, HttpStream, send, until } from '../helpers/compat';
import type { RunningDaemon } from '../helpers/daemon';
import { post, type NodePair, usePair } from './two-nodes';

// History and scheduled notifications on Redis, through two real daemons: what A accepted is in
// B's ntfy since= polls, B's Gotify pages and B's admin history; a notification scheduled on A is
// listed on B, delivered once with both nodes running, and one cancelled on B is gone from A.

jest.setTimeout(120_000);

let nodes: NodePair;

usePair({ phones: 1 }, (started) => ({ nodes } = started));

/** An ntfy poll (the stream ends once history is sent). */
async function poll(node: RunningDaemon, topic: string, since: string, token: string): Promise<any[]> {
  const stream = await HttpStream.open(`${node.adminUrl}/${topic}/json?poll=1&since=${since}`, { authorization: `Bearer ${token}` });
  await until(() => stream.ended, 'the poll to end', 15_000);
  return stream.json.filter((e) => e.event === 'message');
}

test('ntfy since= on B sees what A accepted (all, and after an id)', async () => {
  const { a, b } = nodes;
  const pub = await createToken(a, 'publish', ['hist']);
  const sub = await createToken(a, 'subscribe', ['hist']);
  const first = await send('POST', `${a.adminUrl}/hist`, 'first on A', { authorization: `Bearer ${pub.token}` });
  const second = await send('POST', `${a.adminUrl}/hist`, 'second on A', { authorization: `Bearer ${pub.token}` });
  expect([first.status, second.status]).toEqual([200, 200]);
  expect((await poll(b, 'hist', 'all', sub.token)).map((m) => m.message)).toEqual(['first on A', 'second on A']);
  expect((await poll(b, 'hist', first.body.id, sub.token)).map((m) => m.message)).toEqual(['second on A']);
});

test('Gotify paging on B lists what A accepted, newest first, page by page', async () => {
  const { a, b } = nodes;
  const app = await createToken(a, 'publish', undefined, 'Backup');
  const client = await createToken(a, 'subscribe');
  for (const n of [1, 2, 3]) {
    const res = await send('POST', `${a.adminUrl}/message`, JSON.stringify({ message: `gotify ${n}` }), { 'content-type': 'application/json', 'X-Gotify-Key': app.token });
    expect(res.status).toBe(200);
  }
  const page = async (query: string) => (await send('GET', `${b.adminUrl}/application/${app.id}/message?${query}`, undefined, { 'X-Gotify-Key': client.token })).body;
  const one = await page('limit=2');
  expect(one.messages.map((m: any) => m.message)).toEqual(['gotify 3', 'gotify 2']);
  const two = await page(`limit=2&since=${one.paging.since}`);
  expect(two.messages.map((m: any) => m.message)).toEqual(['gotify 1']);
});

test('the admin history on B lists a notification posted on A', async () => {
  const { a, b } = nodes;
  const posted = await post(a, { body: 'history from A' });
  expect(posted.status).toBe(202);
  const listed = await b.admin<{ id: string; body: string }[]>('GET', '/api/v1/notifications?limit=20');
  expect(listed.body.map((n) => n.id)).toContain(posted.body.id);
});

test('scheduled on A: listed on B and delivered once with both nodes running; one cancelled on B is gone on A', async () => {
  const { a, b } = nodes;
  const phone = new Phone(nodes.phones[0]);
  await phone.connect(b);
  const pub = await createToken(a, 'publish', ['later']);
  const soon = await send('POST', `${a.adminUrl}/later`, 'scheduled on A', { authorization: `Bearer ${pub.token}`, 'X-Delay': '10s' });
  const far = await send('POST', `${a.adminUrl}/later`, 'cancelled on B', { authorization: `Bearer ${pub.token}`, 'X-Delay': '1h' });
  expect([soon.status, far.status]).toEqual([200, 200]);
  const listedOnB = (await b.admin<{ id: string }[]>('GET', '/api/v1/scheduled')).body.map((s) => s.id);
  expect(listedOnB).toEqual(expect.arrayContaining([soon.body.id, far.body.id]));
  expect((await b.admin('DELETE', `/api/v1/scheduled/${far.body.id}`)).status).toBeLessThan(300);
  expect((await a.admin<{ id: string }[]>('GET', '/api/v1/scheduled')).body.map((s) => s.id)).not.toContain(far.body.id);

  await phone.withBody('scheduled on A', 45_000);
  await phone.sentinel(b);
  expect(phone.arrivals.filter((n) => n.body === 'scheduled on A')).toHaveLength(1);
  expect(phone.arrivals.filter((n) => n.body === 'cancelled on B')).toHaveLength(0);
  phone.disconnect();
});
