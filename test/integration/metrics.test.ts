import { RATE_LIMIT_SCOPES } from '../../app/observability/metrics';
import { startDaemon, type RunningDaemon } from '../helpers/daemon';
import { parseMetrics, value } from '../helpers/metrics';
import { Phone } from '../helpers/phone';

// Every metric family of the issue appears with sane values after a scripted run: posts from
// two sources, a rejected one, a delivery held back until it is redelivered, acks.

describe('/metrics after a scripted run', () => {
  let daemon: RunningDaemon;
  beforeAll(async () => {
    daemon = await startDaemon({ config: { queue: { redeliverAfterMs: 300 } } });
  });
  afterAll(async () => {
    await daemon.stop();
  });

  test('each family, sane values, bounded labels', async () => {
    const phone = await Phone.paired(daemon);
    // The first batch goes unacknowledged, so it is redelivered; everything later is acked.
    let held = true;
    phone.ackPolicy = (items) => (held ? null : items.map((n) => n.id));
    await phone.connect(daemon);
    const first = await daemon.admin('POST', '/api/v1/notifications', { title: 'held back' });
    await phone.waitFor(() => phone.arrivals.length >= 2, 10_000, 'a redelivery');
    held = false;
    for (let i = 0; i < 5; i++) expect((await daemon.admin('POST', '/api/v1/notifications', { title: `http ${i}` })).status).toBe(202);
    for (let i = 0; i < 3; i++) {
      const r = await daemon.admin('POST', '/api/v1/notifications', { title: `cli ${i}`, priority: 'urgent' }, { 'x-beep-source': 'cli' });
      expect(r.status).toBe(202);
    }
    expect((await daemon.admin('POST', '/api/v1/notifications', { body: 'no title' })).status).toBe(400);
    await phone.waitFor(() => phone.unique.size === 9, 10_000, 'nine notifications');
    expect(phone.unique.has(first.body.id)).toBe(true);
    await daemon.admin('GET', '/api/v1/devices');
    await new Promise((r) => setTimeout(r, 2_500)); // one memory-watch sample at least

    const res = await daemon.admin('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const m = parseMetrics(res.text);
    const v = (name: string, labels?: Record<string, string>) => value(m, name, labels);

    expect(v('beep_notifications_ingested_total', { source: 'http' })).toBe(7);
    expect(v('beep_notifications_ingested_total', { source: 'cli' })).toBe(3);
    expect(v('beep_notifications_accepted_total', { source: 'http' })).toBe(6);
    expect(v('beep_notifications_accepted_total', { source: 'cli' })).toBe(3);
    expect(v('beep_notifications_rejected_total', { code: 'title_required', source: 'http' })).toBe(1);
    expect(res.text).toContain('# TYPE beep_notifications_muted_total counter');
    expect(v('beep_notifications_delivered_total')).toBe(9);
    expect(v('beep_notifications_redelivered_total')).toBeGreaterThanOrEqual(1);
    expect(v('beep_delivery_latency_seconds_count')).toBe(9);
    const latencySum = v('beep_delivery_latency_seconds_sum')!;
    expect(latencySum).toBeGreaterThan(0.3); // the held one waited for its redelivery
    expect(latencySum).toBeLessThan(60);
    expect(v('beep_batch_size_count')).toBeGreaterThanOrEqual(3);
    expect(v('beep_batch_size_sum')).toBeGreaterThanOrEqual(10); // 9 + the redelivered one
    for (const priority of ['1', '2', '3', '4', '5']) expect(v('beep_queue_depth', { priority })).toBe(0);
    expect(v('beep_devices_connected')).toBe(1);
    expect(v('beep_http_request_duration_seconds_count', { listener: 'admin', route: '/api/v1/notifications', status: '202' })).toBe(9);
    expect(v('beep_http_request_duration_seconds_count', { listener: 'admin', route: '/api/v1/notifications', status: '400' })).toBe(1);
    expect(v('beep_http_request_duration_seconds_count', { listener: 'gateway', route: '/api/v1/pair', status: '201' })).toBe(1);
    // Every rate-limit scope is there at 0 before its first refusal (no limit was hit here), and only those.
    const scopes = m.filter((s) => s.name === 'beep_rate_limited_total');
    expect(scopes.map((s) => s.labels.scope).sort()).toEqual([...RATE_LIMIT_SCOPES].sort());
    expect(scopes.filter((s) => s.value !== 0)).toEqual([]);
    expect(v('beep_db_commit_duration_seconds_count', { outcome: 'ok' })).toBeGreaterThanOrEqual(9);
    expect(v('beep_db_read_acquire_seconds_count')).toBeGreaterThanOrEqual(1);
    const certSeconds = v('beep_certificate_expiry_seconds')!;
    expect(certSeconds).toBeGreaterThan(30 * 86_400);
    expect(certSeconds).toBeLessThan(20 * 365 * 86_400);
    expect(v('nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(v('nodejs_eventloop_lag_p99_seconds')).toBeLessThan(5);
    const rss = v('beep_memory_bytes', { kind: 'rss' })!;
    expect(rss).toBeGreaterThan(20 * 1048576);
    expect(rss).toBeLessThan(1024 * 1048576);
    expect(v('beep_memory_bytes', { kind: 'heap_used' })).toBeGreaterThan(1048576);
    expect(v('beep_memory_bytes', { kind: 'external' })).toBeGreaterThan(0);
    expect(v('beep_memory_alarm', { kind: 'leak' })).toBe(0);
    expect(v('process_resident_memory_bytes')).toBeGreaterThan(0);
    // Standard names for the default process and Node.js metrics (community dashboards look for these).
    expect(v('beep_process_resident_memory_bytes')).toBeUndefined();

    // Bounded labels: no device id, notification id or raw path anywhere in a label value.
    const labelValues = m.flatMap((s) => Object.values(s.labels));
    for (const secretish of [phone.credentials.deviceId, first.body.id]) expect(labelValues).not.toContain(secretish);
    const routes = new Set(m.filter((s) => s.labels.route).map((s) => s.labels.route));
    for (const route of routes) expect(route).toMatch(/^(\/[a-z0-9/:._-]*|unmatched)$/);
    phone.disconnect();
  });

  test('a raw path never becomes a label', async () => {
    for (let i = 0; i < 3; i++) await daemon.admin('GET', `/no/such/path/${i}`);
    await daemon.admin('DELETE', '/api/v1/devices/some-device-id');
    const m = parseMetrics((await daemon.admin('GET', '/metrics')).text);
    const routes = m.filter((s) => s.name === 'beep_http_request_duration_seconds_count').map((s) => s.labels.route);
    expect(routes.some((r) => r.includes('no/such'))).toBe(false);
    expect(routes).toContain('/api/v1/devices/:id');
    expect(value(m, 'beep_http_request_duration_seconds_count', { listener: 'admin', route: 'unmatched', status: '404' })).toBeGreaterThanOrEqual(3);
  });
});
