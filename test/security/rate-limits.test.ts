import { httpRequest, rawRequest } from '../helpers/attack';
import { startDaemon, type RunningDaemon } from '../helpers/daemon';

// Rate limits on the gateway: the per-IP budget with its headers, X-Forwarded-For ignored
// unless proxies are configured, and progressive blocking after 10 refusals in a row.
// (The budget is 8 a minute here instead of 100 so the test stays short.)

let daemon: RunningDaemon;

afterAll(async () => {
  await daemon?.stop();
});

function get(path: string, headers: Record<string, string> = {}) {
  return rawRequest(
    daemon.runtime.gatewayPort,
    httpRequest('GET', path, { Host: `localhost:${daemon.runtime.gatewayPort}`, ...headers }),
    { ca: daemon.caPem },
  );
}

test('a spoofed X-Forwarded-For is ignored: every request counts against the real peer', async () => {
  daemon = await startDaemon({ config: { rateLimits: { gatewayPerIpPerMin: 8 } } });
  for (let i = 1; i <= 8; i++) {
    const res = await get('/ca.crt', { 'X-Forwarded-For': `198.51.100.${i}` });
    expect(res.status).toBe(200);
    expect(res.headers['ratelimit-limit']).toBe('8');
    expect(res.headers['ratelimit-remaining']).toBe(String(8 - i));
    expect(Number(res.headers['ratelimit-reset'])).toBeGreaterThan(0);
  }
  const refused = await get('/ca.crt', { 'X-Forwarded-For': '198.51.100.200' });
  expect({ status: refused.status, code: JSON.parse(refused.body).error.code }).toEqual({ status: 429, code: 'rate_limited' });
  expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  expect(refused.headers['ratelimit-remaining']).toBe('0');
});

test('10 refusals in a row block the IP for 15 min: API and socket handshakes alike; audited', async () => {
  for (let i = 0; i < 9; i++) expect((await get('/ca.crt')).status).toBe(429); // 1 above + 9 = 10
  const blocked = await get('/ca.crt');
  expect({ status: blocked.status, code: JSON.parse(blocked.body).error.code }).toEqual({ status: 429, code: 'ip_blocked' });
  expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(14 * 60);
  const handshake = await get('/socket.io/?EIO=4&transport=websocket', {
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version': '13',
  });
  expect({ status: handshake.status, code: JSON.parse(handshake.body).error.code }).toEqual({ status: 429, code: 'ip_blocked' });
  const audit = await daemon.admin('GET', '/api/v1/audit?limit=20');
  expect(audit.body).toContainEqual(expect.objectContaining({ event: 'ip_blocked', actor: 'ip:127.0.0.1' }));
  const metrics = await daemon.admin('GET', '/metrics');
  expect(metrics.text).toMatch(/beep_rate_limited_total\{scope="gateway_ip"\} [1-9]/);
  expect(metrics.text).toMatch(/beep_rate_limited_total\{scope="blocked"\} [1-9]/);
});

test('with one trusted proxy hop, each forwarded client has its own budget, and a forged left entry changes nothing', async () => {
  await daemon.stop();
  daemon = await startDaemon({ dataDir: daemon.dataDir, config: { gateway: { trustProxyHops: 1 }, rateLimits: { gatewayPerIpPerMin: 8 } } });
  for (let i = 0; i < 8; i++) {
    // The attacker prepends a different fake address each time; the proxy appended the real one.
    expect((await get('/ca.crt', { 'X-Forwarded-For': `10.0.0.${i}, 203.0.113.1` })).status).toBe(200);
  }
  expect((await get('/ca.crt', { 'X-Forwarded-For': '10.9.9.9, 203.0.113.1' })).status).toBe(429);
  expect((await get('/ca.crt', { 'X-Forwarded-For': '203.0.113.2' })).status).toBe(200);
});

test('loading the phone app many times does not spend the API budget; its own budget still ends', async () => {
  const own = await startDaemon({ config: { rateLimits: { gatewayPerIpPerMin: 8, gatewayStaticPerIpPerMin: 40 } } });
  const fetchFrom = (path: string) =>
    rawRequest(own.runtime.gatewayPort, httpRequest('GET', path, { Host: `localhost:${own.runtime.gatewayPort}` }), { ca: own.caPem });
  try {
    // Forty file loads (about one and a half app loads): all served, and the API budget is untouched.
    for (let i = 0; i < 20; i++) {
      expect((await fetchFrom('/')).status).toBe(200);
      expect((await fetchFrom('/manifest.webmanifest')).status).toBe(200);
    }
    const api = await fetchFrom('/ca.crt');
    expect(api.status).toBe(200);
    expect(api.headers['ratelimit-remaining']).toBe('7');
    // A path that is no file of the app spends the API budget, not the file budget.
    expect((await fetchFrom('/no-such-file.js')).status).toBe(404);
    expect((await fetchFrom('/ca.crt')).headers['ratelimit-remaining']).toBe('5');
    // The 41st file is refused: files have a budget too.
    const refused = await fetchFrom('/');
    expect(refused.status).toBe(429);
  } finally {
    await own.stop();
  }
});
