import { httpRequest, rawRequest, type RawResponse } from '../helpers/attack';
import { createToken } from '../helpers/compat';
import { startDaemon, type RunningDaemon } from '../helpers/daemon';

// Issue 11, item 13 (and 15's gateway 5xx): the per-IP gate used to be written three times
// with different accounting; ntfy/Gotify routes ignored gateway.trustProxyHops, and their
// WebSocket refusals never counted toward the IP block; IPv4-mapped IPv6 was a key of its own.
// Now one edge per listener decides the address once and one gate counts every refusal.

const daemons: RunningDaemon[] = [];

afterAll(async () => {
  for (const d of daemons) await d.stop();
});

async function start(config: Record<string, unknown>, args: string[] = []): Promise<RunningDaemon> {
  const d = await startDaemon({ config, args });
  daemons.push(d);
  return d;
}

function gateway(d: RunningDaemon, method: string, target: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return rawRequest(d.runtime.gatewayPort, httpRequest(method, target, { Host: `localhost:${d.runtime.gatewayPort}`, ...headers }), { ca: d.caPem });
}

const UPGRADE = { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13' };

test('ntfy and Gotify routes key their failure budget on the forwarded client when a proxy is trusted', async () => {
  const d = await start({ gateway: { trustProxyHops: 1 }, compat: { tokenFailures: 3 } });
  const wrong = { Authorization: 'Bearer tk_wrongwrongwrongwrongwrongwrong' };
  // Client A (as its proxy reports it) exhausts its failure budget on the ntfy JSON stream.
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) statuses.push((await gateway(d, 'GET', '/alerts/json?poll=1', { ...wrong, 'X-Forwarded-For': '203.0.113.1' })).status);
  expect(statuses).toEqual([401, 401, 401, 429]);
  // Client B behind the same proxy is not refused for A's failures (Gotify and ntfy alike).
  expect((await gateway(d, 'GET', '/message', { ...wrong, 'X-Forwarded-For': '203.0.113.2' })).status).toBe(401);
  expect((await gateway(d, 'GET', '/alerts/json?poll=1', { ...wrong, 'X-Forwarded-For': '203.0.113.2' })).status).toBe(401);
  const audit = await d.admin('GET', '/api/v1/audit?limit=50');
  const actors = new Set(audit.body.map((e: { actor: string }) => e.actor));
  expect(actors).toContain('ip:203.0.113.1');
  expect(actors).not.toContain('ip:127.0.0.1');
});

test('WebSocket upgrade refusals count toward the IP block like any other 429', async () => {
  const d = await start({ rateLimits: { gatewayPerIpPerMin: 3, blockAfterViolations: 3 } });
  // Three upgrades within the budget (refused for want of a token), three beyond it (429).
  const answers: number[] = [];
  for (let i = 0; i < 6; i++) answers.push((await gateway(d, 'GET', '/alerts/ws', UPGRADE)).status);
  expect(answers).toEqual([401, 401, 401, 429, 429, 429]);
  // Those three refusals in a row blocked the address: the next plain request is told so.
  const next = await gateway(d, 'GET', '/ca.crt');
  expect({ status: next.status, code: JSON.parse(next.body).error.code }).toEqual({ status: 429, code: 'ip_blocked' });
  // socket.io handshakes pass the same gate.
  const handshake = await gateway(d, 'GET', '/socket.io/?EIO=4&transport=websocket', UPGRADE);
  expect({ status: handshake.status, code: JSON.parse(handshake.body).error.code }).toEqual({ status: 429, code: 'ip_blocked' });
});

test('IPv4-mapped IPv6 peers (a dual-stack listener) are grouped as their IPv4 address', async () => {
  const d = await start({}, ['--gateway-host', '::']);
  const pair = await rawRequest(
    d.runtime.gatewayPort,
    httpRequest('POST', '/api/v1/pair', { Host: `localhost:${d.runtime.gatewayPort}`, 'Content-Type': 'application/json' }, JSON.stringify({ code: '00000000', name: 'x' })),
    { ca: d.caPem },
  );
  expect(pair.status).toBe(401);
  const audit = await d.admin('GET', '/api/v1/audit?limit=20');
  const failed = audit.body.filter((e: { event: string }) => e.event === 'pairing_failed');
  expect(failed.map((e: { actor: string }) => e.actor)).toContain('ip:127.0.0.1');
  expect(JSON.stringify(audit.body)).not.toContain('::ffff:');
});

test('gateway 5xx answers are counted in a metric', async () => {
  // A 1 MiB database cap makes SQLite refuse writes: the gateway's ntfy publish answers 503.
  const d = await start({ store: { maxSizeMb: 1 } });
  const { token } = await createToken(d, 'publish');
  const body = 'x'.repeat(4000);
  let refused: RawResponse | undefined;
  for (let i = 0; i < 400 && !refused; i++) {
    const res = await d.admin('POST', '/api/v1/notifications', { title: `fill ${i}`, body });
    if (res.status === 503) break;
  }
  for (let i = 0; i < 5 && !refused; i++) {
    const publish = await rawRequest(
      d.runtime.gatewayPort,
      httpRequest('POST', '/alerts', { Host: `localhost:${d.runtime.gatewayPort}`, Authorization: `Bearer ${token}` }, body),
      { ca: d.caPem },
    );
    if (publish.status >= 500) refused = publish;
  }
  expect(refused?.status).toBe(503);
  const metrics = await d.admin('GET', '/metrics');
  expect(metrics.text).toMatch(/beep_http_server_errors_total\{listener="gateway",status="503"\} [1-9]/);
});
