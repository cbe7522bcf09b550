import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startDaemon, tempDir } from '../helpers/daemon';
import { Phone } from '../helpers/phone';

// Start, discovery files, config errors, health, a failing commit (503, never 2xx), SIGTERM.

const MAIN = path.resolve(__dirname, '..', '..', 'dist', 'app', 'main.js');

function mode(file: string): number {
  return fs.statSync(file).mode & 0o777;
}

describe('daemon lifecycle', () => {
  test('discovery files, health, metrics, and a clean SIGTERM', async () => {
    const daemon = await startDaemon();
    const runtime = JSON.parse(fs.readFileSync(path.join(daemon.dataDir, 'daemon.json'), 'utf8'));
    expect(runtime).toEqual({
      pid: daemon.proc.pid,
      gatewayPort: expect.any(Number),
      adminPort: expect.any(Number),
      caFingerprint: expect.stringMatching(/^sha256\/[0-9a-f]{64}$/),
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
    });
    expect(runtime.gatewayPort).toBeGreaterThan(0);
    expect(mode(path.join(daemon.dataDir, 'admin.token'))).toBe(0o600);
    const signingKeys = fs.readdirSync(path.join(daemon.dataDir, 'keys')).filter((f) => /^signing-\d+\.pem$/.test(f));
    expect(signingKeys).toHaveLength(1);
    expect(mode(path.join(daemon.dataDir, 'keys', signingKeys[0]))).toBe(0o600);
    for (const f of ['ca.key', 'server.key', 'ca.crt', 'server.crt']) expect(mode(path.join(daemon.dataDir, 'certs', f))).toBe(0o600);

    const health = await daemon.admin('GET', '/health', undefined, { authorization: '' });
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok', uptime: expect.any(Number) });
    const detailed = await daemon.admin('GET', '/health/detailed');
    expect(detailed.body.status).toBe('ok');
    for (const name of ['database', 'queue', 'certificate', 'memory', 'sources']) {
      expect(detailed.body.checks[name]).toMatchObject({ status: expect.stringMatching(/^(ok|degraded|down)$/), latencyMs: expect.any(Number) });
    }
    expect((await daemon.admin('GET', '/health/detailed', undefined, { authorization: '' })).status).toBe(401);

    const phone = await Phone.paired(daemon);
    await phone.connect(daemon);
    const sent = await daemon.admin('POST', '/api/v1/notifications', { title: 'metric me' });
    await phone.waitFor(() => phone.unique.has(sent.body.id));
    // The ack is counted when the daemon processes it: poll for it instead of sleeping.
    let metrics = await daemon.admin('GET', '/metrics');
    for (const deadline = Date.now() + 10_000; !/beep_notifications_delivered_total 1/.test(metrics.text) && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 50));
      metrics = await daemon.admin('GET', '/metrics');
    }
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/beep_notifications_accepted_total\{source="http"\} 1/);
    expect(metrics.text).toMatch(/beep_notifications_delivered_total 1/);
    expect(metrics.text).toMatch(/beep_devices_connected 1/);
    expect(metrics.text).toMatch(/beep_db_commit_duration_seconds_count\{outcome="ok"\} \d+/);
    phone.disconnect();

    expect(await daemon.stop()).toBe(0);
    expect(fs.existsSync(path.join(daemon.dataDir, 'daemon.json'))).toBe(false);
  });

  test('every configuration error is reported at once, with exit code 2', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ queue: { maxBatch: 0 }, store: { durability: 'sometimes' }, bogus: 1 }));
    const result = spawnSync(process.execPath, [MAIN, 'start'], {
      env: { PATH: process.env.PATH, BEEP_HOME: dir, BEEP_GATEWAY_PORT: 'abc', BEEP_LOG_LEVEL: 'loud' },
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(result.status).toBe(2);
    for (const fragment of ['queue.maxBatch', 'store.durability', 'bogus', 'gateway.port', 'log.level']) {
      expect(result.stderr).toContain(fragment);
    }
    expect(fs.existsSync(path.join(dir, 'daemon.json'))).toBe(false);

    fs.writeFileSync(path.join(dir, 'config.json'), '{ not json');
    const broken = spawnSync(process.execPath, [MAIN, 'start'], { env: { PATH: process.env.PATH, BEEP_HOME: dir }, encoding: 'utf8' });
    expect(broken.status).toBe(2);
    expect(broken.stderr).toContain('config.json: is not valid JSON');

    const redis = spawnSync(process.execPath, [MAIN, 'start'], {
      env: { PATH: process.env.PATH, BEEP_HOME: tempDir(), BEEP_REDIS_URL: 'ftp://127.0.0.1:6379' },
      encoding: 'utf8',
    });
    expect(redis.status).toBe(2);
    expect(redis.stderr).toContain('cluster.redisUrl');
  });

  test('flags override the environment, which overrides the file', async () => {
    const dir = tempDir();
    const daemon = await startDaemon({
      dataDir: dir,
      config: { admin: { port: 1 }, gateway: { port: 2 } },
      env: { BEEP_ADMIN_PORT: '3' },
      args: ['--admin-port', '0'],
    });
    // file said 1 and 2, env said 3 (admin) and 0 (gateway, from the helper), the flag said 0
    expect(daemon.runtime.adminPort).not.toBe(1);
    expect(daemon.runtime.adminPort).not.toBe(3);
    expect(daemon.runtime.gatewayPort).not.toBe(2);
    await daemon.stop();
  });

  test('a commit that fails answers 503 and is never delivered; what got 202 is', async () => {
    // A 1 MiB cap on the database makes SQLite itself refuse writes (SQLITE_FULL).
    const daemon = await startDaemon({ config: { store: { maxSizeMb: 1 } } });
    const phone = await Phone.paired(daemon);
    await phone.connect(daemon);
    const accepted: string[] = [];
    const refused: string[] = [];
    const body = 'x'.repeat(4000);
    for (let i = 0; i < 400 && refused.length < 5; i++) {
      const res = await daemon.admin('POST', '/api/v1/notifications', { title: `fill ${i}`, body, id: `fill-${i}` });
      if (res.status === 202) accepted.push(`fill-${i}`);
      else {
        expect(res.status).toBe(503);
        expect(res.body.error.code).toBe('not_accepted');
        expect(res.text).not.toMatch(/SQLITE|stack|at /);
        refused.push(`fill-${i}`);
      }
    }
    expect(accepted.length).toBeGreaterThan(10);
    expect(refused.length).toBe(5);
    await phone.waitFor(() => accepted.every((id) => phone.unique.has(id)), 10_000, 'accepted ones');
    await phone.sentinel(daemon);
    expect(refused.filter((id) => phone.unique.has(id))).toEqual([]);
    const metrics = await daemon.admin('GET', '/metrics');
    expect(metrics.text).toMatch(/beep_notifications_rejected_total\{code="not_accepted",source="http"\} [1-9]/);
    phone.disconnect();
    await daemon.stop();
  });
});
