import fs from 'node:fs';
import path from 'node:path';
import { startDaemon, type RunningDaemon } from '../helpers/daemon';
import { Phone } from '../helpers/phone';

// GET/PUT /api/v1/rules: validated, applied without a restart, kept in config.json; muted
// notifications are answered, counted and never stored.

describe('rules API', () => {
  let daemon: RunningDaemon;

  beforeAll(async () => {
    daemon = await startDaemon({ config: { rules: { minPriority: 2 } } });
  });
  afterAll(async () => {
    await daemon.stop();
  });

  test('rules from the config file are served with their defaults', async () => {
    const res = await daemon.admin('GET', '/api/v1/rules');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ minPriority: 2, apps: { allow: [], deny: [] }, duplicates: { windowSec: 0 }, burst: { threshold: 0 } });
    expect((await daemon.admin('GET', '/api/v1/rules', undefined, { authorization: '' })).status).toBe(401);
  });

  test('invalid rules are refused with every problem and change nothing', async () => {
    const res = await daemon.admin('PUT', '/api/v1/rules', {
      keywords: [{ pattern: '(unclosed', action: 'mute' }],
      quietHours: { timeZone: 'Mars/Olympus', windows: [{ start: '25:00', end: '07:00' }] },
      bogus: true,
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_rules');
    const fields = res.body.error.details.problems.map((p: { field: string }) => p.field);
    expect(fields).toEqual(expect.arrayContaining(['keywords.0.pattern', 'quietHours.timeZone', 'quietHours.windows.0.start', 'bogus']));
    expect((await daemon.admin('PUT', '/api/v1/rules', '[1]')).body.error.code).toBe('invalid_rules');
    expect((await daemon.admin('PUT', '/api/v1/rules', 'x', { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await daemon.admin('GET', '/api/v1/rules')).body.minPriority).toBe(2);
  });

  test('new rules apply at once: mute (counted, not stored), redact; and survive a restart', async () => {
    const phone = await Phone.paired(daemon);
    await phone.connect(daemon);
    const put = await daemon.admin('PUT', '/api/v1/rules', {
      apps: { deny: ['spam*'] },
      keywords: [{ pattern: '\\b\\d{6}\\b', action: 'redact', replacement: '######' }],
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ minPriority: 1, apps: { allow: [], deny: ['spam*'] } });

    const muted = await daemon.admin('POST', '/api/v1/notifications', { title: 'buy now', app: 'spammer' });
    expect(muted.status).toBe(200);
    expect(muted.body).toEqual({ id: null, muted: 'app' });
    const redacted = await daemon.admin('POST', '/api/v1/notifications', { title: 'Login code 424242', app: 'bank' });
    expect(redacted.status).toBe(202);
    await phone.waitFor(() => phone.unique.has(redacted.body.id));
    expect(phone.unique.get(redacted.body.id)!.title).toBe('Login code ######');

    const history = await daemon.admin('GET', '/api/v1/notifications');
    expect(history.body.map((n: { title: string }) => n.title)).not.toContain('buy now');
    const metrics = await daemon.admin('GET', '/metrics');
    expect(metrics.text).toMatch(/beep_notifications_muted_total\{rule="app",source="http"\} 1/);
    phone.disconnect();

    const file = JSON.parse(fs.readFileSync(path.join(daemon.dataDir, 'config.json'), 'utf8'));
    expect(file.rules.apps.deny).toEqual(['spam*']);
    expect(fs.statSync(path.join(daemon.dataDir, 'config.json')).mode & 0o777).toBe(0o600);
    await daemon.stop();
    daemon = await daemon.restart();
    expect((await daemon.admin('GET', '/api/v1/rules')).body.apps.deny).toEqual(['spam*']);
  });
});
