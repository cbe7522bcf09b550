import path from 'node:path';
import { startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon';
import { createToken, HttpStream, send } from '../helpers/compat';
import { FakeNotificationCentre } from '../helpers/macos-db';
import { parseMetrics, value, type Sample } from '../helpers/metrics';

// [harden] item 15: `ingested` and validation `rejected` were counted only on Beep's own HTTP
// route, not for D-Bus, macOS, ntfy or Gotify; and two pre-created rate-limit series ("ip",
// "pairing") were never emitted while a test asserted they were 0. Now ingest counts every
// source where they all pass, labelled by source, and the pre-created scopes are exactly the
// ones the daemon emits: each limit hit here lands on a series that existed (at 0) before.

const v = (m: Sample[], name: string, labels: Record<string, string>) => value(m, name, labels) ?? 0;

describe('ingest counts every source', () => {
  const dir = tempDir('beep-nc-metrics-');
  const centreFile = path.join(dir, 'db');
  let centre: FakeNotificationCentre;
  let daemon: RunningDaemon;
  const scrape = async (): Promise<Sample[]> => parseMetrics((await daemon.admin('GET', '/metrics')).text);

  beforeAll(async () => {
    centre = new FakeNotificationCentre(centreFile);
    daemon = await startDaemon({
      config: { sources: { dbus: { enabled: false }, macos: { enabled: true, database: centreFile, pollSec: 0.1 } }, health: { cacheTtlMs: 0 } },
    });
  });

  afterAll(async () => {
    await daemon?.stop();
    centre?.close();
  });

  test('ingested and rejected are counted for every source, by source', async () => {
    const pub = await createToken(daemon, 'publish', undefined, 'counted');
    const admin = (p: string) => `${daemon.adminUrl}${p}`;
    const auth = { authorization: `Bearer ${pub.token}` };
    expect((await send('POST', admin('/alerts'), 'ntfy one', auth)).status).toBe(200);
    expect((await send('POST', admin('/alerts'), 'ntfy bad', { ...auth, Priority: 'loud' })).body.beep_code).toBe('invalid_priority');
    expect((await send('POST', admin('/message'), JSON.stringify({ message: 'gotify one' }), { ...auth, 'content-type': 'application/json' })).status).toBe(200);
    expect((await send('POST', admin('/message'), JSON.stringify({ title: 'no message' }), { ...auth, 'content-type': 'application/json' })).status).toBe(400);
    const deadline = Date.now() + 10_000;
    const health = async () => (await daemon.admin('GET', '/health/detailed')).body.checks.sources.macos.state;
    while ((await health()) !== 'attached' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    centre.post('com.apple.Mail', { titl: 'From the desktop', body: 'hello' });
    let m = await scrape();
    for (let i = 0; i < 200 && v(m, 'beep_notifications_accepted_total', { source: 'macos' }) < 1; i++) {
      await new Promise((r) => setTimeout(r, 50));
      m = await scrape();
    }
    expect({
      ntfy: v(m, 'beep_notifications_ingested_total', { source: 'ntfy' }),
      gotify: v(m, 'beep_notifications_ingested_total', { source: 'gotify' }),
      macos: v(m, 'beep_notifications_ingested_total', { source: 'macos' }),
      ntfyRejected: v(m, 'beep_notifications_rejected_total', { code: 'invalid_priority', source: 'ntfy' }),
      gotifyRejected: v(m, 'beep_notifications_rejected_total', { code: 'validation_failed', source: 'gotify' }),
    }).toEqual({ ntfy: 2, gotify: 2, macos: 1, ntfyRejected: 1, gotifyRejected: 1 });
  });
});

describe('rate-limit series', () => {
  let daemon: RunningDaemon;
  const scrape = async (): Promise<Sample[]> => parseMetrics((await daemon.admin('GET', '/metrics')).text);

  beforeAll(async () => {
    daemon = await startDaemon({
      config: {
        rateLimits: { gatewayPerIpPerMin: 30, pairingAttempts: 2 },
        compat: { tokenRequestsPerMinute: 3, tokenFailures: 2, streamsPerToken: 1 },
      },
    });
  });

  afterAll(async () => {
    await daemon?.stop();
  });

  test('every rate-limit series that exists before any limit is hit is one the daemon emits, and each emitted one existed', async () => {
    const before = (await scrape()).filter((s) => s.name === 'beep_rate_limited_total');
    const precreated = new Set(before.map((s) => s.labels.scope));
    expect(before.every((s) => s.value === 0)).toBe(true);

    // Hit the limits a hostile client on the LAN (or a careless script) hits.
    const sub = await createToken(daemon, 'subscribe');
    const held = await HttpStream.open(`${daemon.adminUrl}/alerts/json`, { authorization: `Bearer ${sub.token}` });
    const second = await HttpStream.open(`${daemon.adminUrl}/alerts/json`, { authorization: `Bearer ${sub.token}` }); // stream_token
    held.close();
    second.close();
    const pub = await createToken(daemon, 'publish', undefined, 'limited');
    for (let i = 0; i < 4; i++) await send('POST', `${daemon.adminUrl}/alerts`, 'x', { authorization: `Bearer ${pub.token}` }); // api_token
    for (let i = 0; i < 3; i++) await send('POST', `${daemon.adminUrl}/alerts`, 'x', { authorization: 'Bearer bk_wrong' }); // api_token_failures
    for (let i = 0; i < 3; i++) await daemon.gateway('POST', '/api/v1/pair', { code: '00000000', name: 'x', platform: 'test' }); // pairing
    for (let i = 0; i < 40; i++) await daemon.gateway('GET', '/ca.crt'); // gateway_ip

    const after = (await scrape()).filter((s) => s.name === 'beep_rate_limited_total');
    const hit = after.filter((s) => s.value > 0).map((s) => s.labels.scope);
    expect(hit.length).toBeGreaterThanOrEqual(4);
    // Each refusal counted under a scope that was there from the start (a dashboard sees it at 0)...
    expect(hit.filter((scope) => !precreated.has(scope))).toEqual([]);
    // ...and no pre-created scope is a name nothing emits: the ones hit here are among them.
    for (const scope of ['api_token', 'api_token_failures', 'pairing_ip', 'stream_token', 'gateway_ip']) expect(hit).toContain(scope);
    expect([...precreated].filter((scope) => ['ip', 'pairing'].includes(scope))).toEqual([]);
  });
});
