import { Phone } from '../helpers/phone';
import { createToken, HttpStream, send, until } from '../helpers/compat';
import { post, type NodePair, usePair } from './two-nodes';

// The accounts ports on Redis, seen through two real daemons: a phone paired through A (after
// both nodes run) connects to B and receives; B lists it; an API token made on A works on B and
// its revocation on A closes B's stream; a dashboard login link minted on A logs in on B, and a
// logout on B ends the live feed that session holds open on A (a control event).

jest.setTimeout(120_000);

let nodes: NodePair;

usePair({ phones: 0 }, (started) => ({ nodes } = started));

test('a phone paired through A while both run connects to B, receives, and is listed by B', async () => {
  const { a, b } = nodes;
  const phone = await Phone.paired(a, 'paired on A');
  await phone.connect(b);
  expect((await post(a, { body: 'posted on A for B' })).status).toBe(202);
  await phone.withBody('posted on A for B');
  const listed = await b.admin<{ id: string; name: string }[] | { devices: { id: string; name: string }[] }>('GET', '/api/v1/devices');
  const devices = Array.isArray(listed.body) ? listed.body : listed.body.devices;
  expect(devices.map((d) => [d.id, d.name])).toContainEqual([phone.credentials.deviceId, 'paired on A']);
  phone.disconnect();
});

test('an API token made on A publishes on B; revoked on A, B closes its stream and refuses it', async () => {
  const { a, b } = nodes;
  const pub = await createToken(a, 'publish', ['acct-topic']);
  const sub = await createToken(a, 'subscribe', ['acct-topic']);
  const stream = await HttpStream.open(`${b.adminUrl}/acct-topic/json`, { authorization: `Bearer ${sub.token}` });
  expect(stream.status).toBe(200);
  const published = await send('POST', `${b.adminUrl}/acct-topic`, 'via B with a token from A', { authorization: `Bearer ${pub.token}` });
  expect(published.status).toBe(200);
  await until(() => stream.json.some((e) => e.event === 'message' && e.message === 'via B with a token from A'), 'the message on B', 20_000);
  expect((await a.admin('DELETE', `/api/v1/tokens/${sub.id}`)).status).toBeLessThan(300);
  await until(() => stream.ended, 'B to end the revoked token\'s stream', 20_000);
  const again = await send('GET', `${b.adminUrl}/acct-topic/json?poll=1`, undefined, { authorization: `Bearer ${sub.token}` });
  expect(again.status).toBe(401);
});

test('a login link minted on A logs in on B; a logout on B ends that session\'s live feed on A', async () => {
  const { a, b } = nodes;
  const link = await a.admin<{ url: string }>('POST', '/api/v1/dashboard/links');
  expect(link.status).toBe(201);
  const onB = await fetch(link.body.url.replace(a.adminUrl, b.adminUrl), { redirect: 'manual' });
  expect(onB.status).toBe(303);
  const cookie = onB.headers.get('set-cookie')!.split(';')[0];
  const session = async (node: typeof a) => (await (await fetch(`${node.adminUrl}/api/v1/dashboard/session`, { headers: { cookie } })).json()) as { csrfToken: string | null };
  const { csrfToken } = await session(b);
  expect(csrfToken).toEqual(expect.any(String));
  expect((await session(a)).csrfToken).toBe(csrfToken);

  const feed = await HttpStream.open(`${a.adminUrl}/api/v1/activity/stream`, { cookie });
  expect(feed.status).toBe(200);
  const logout = await fetch(`${b.adminUrl}/api/v1/dashboard/logout`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrfToken!, 'content-type': 'application/json' } });
  expect(logout.status).toBe(204);
  await until(() => feed.ended, 'A to end the feed of the session logged out on B', 20_000);
  expect((await fetch(`${a.adminUrl}/api/v1/activity`, { headers: { cookie } })).status).toBe(401);
});
