import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Redis from 'ioredis';
import { createToken, send } from '../helpers/compat';
import { startDaemon, tempDir, type CliResult, type RunningDaemon } from '../helpers/daemon';
import { pair, Phone, type Credentials } from '../helpers/phone';
import { RedisServer } from '../helpers/redis-server';
import { joiningDataDir, nodeConfig, post } from './two-nodes';

// [roam] "Join an existing install": an embedded install with two paired phones, an API token and
// 1,000 notifications its phones never fetched is stopped and imported with `beep cluster init`;
// node A on its data directory and node B on a fresh one (only keys/master.key) serve the same
// phones with their old tokens and CA pin, each receiving the 1,000 exactly once; the admin
// history reads as before; the token still publishes. A second install is refused with the list
// of what it would lose. `beep cluster export` writes an embedded install that serves the same
// phones again.

jest.setTimeout(600_000);

const MAIN = path.resolve(__dirname, '..', '..', 'dist', 'app', 'main.js');
const TOTAL = 1000;
/** Notifications the kitchen phone received before the import. */
const SEEN = 50;
const PASSWORD = 'correct horse battery staple';
const basic = (password: string) => ({ authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` });

let redis: RedisServer;
let client: Redis;
const running: RunningDaemon[] = [];

beforeAll(async () => {
  redis = await RedisServer.start();
  client = new Redis(redis.url);
});

afterAll(async () => {
  client?.disconnect();
  for (const d of running) if (d.proc.exitCode === null) await d.kill();
  await redis?.stop();
});

async function start(options: Parameters<typeof startDaemon>[0]): Promise<RunningDaemon> {
  const d = await startDaemon(options);
  running.push(d);
  return d;
}

/** `beep <args>` on a data directory with the daemon stopped. */
function beep(dataDir: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, '--data-dir', dataDir, ...args], { env: { PATH: process.env.PATH, HOME: dataDir, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

/** The whole admin history, newest first, as [id, title, body, dismissed]. */
async function history(node: RunningDaemon): Promise<[string, string, string, boolean][]> {
  const all: [string, string, string, boolean][] = [];
  let before: string | undefined;
  for (;;) {
    const page = await node.admin<{ id: string; title: string; body: string; dismissedAt: string | null }[]>('GET', `/api/v1/notifications?limit=100${before ? `&before=${before}` : ''}`);
    expect(page.status).toBe(200);
    all.push(...page.body.map((n): [string, string, string, boolean] => [n.id, n.title, n.body, n.dismissedAt !== null]));
    if (page.body.length < 100) return all;
    before = page.body[page.body.length - 1].id;
  }
}

/** Posts the burst, a few at a time. */
async function burst(node: RunningDaemon, total: number, label: string): Promise<string[]> {
  const ids: string[] = new Array(total);
  for (let i = 0; i < total; i += 25) {
    await Promise.all(
      Array.from({ length: Math.min(25, total - i) }, async (_, j) => {
        const res = await post(node, { title: `${label} ${i + j}`, body: `${label}-${i + j}`, priority: ((i + j) % 5) + 1 });
        expect(res.status).toBe(202);
        ids[i + j] = res.body.id as string;
      }),
    );
  }
  return ids;
}

test('cluster init imports an install with two phones, a token and 1,000 undelivered; a second install is refused; export goes back', async () => {
  const env = { BEEP_REDIS_URL: redis.url };
  const config = nodeConfig();

  // The embedded install: two phones paired (never connected since), a token, 1,000 notifications.
  const embedded = await start({ config });
  const phones: Credentials[] = [await pair(embedded, 'Kitchen phone'), await pair(embedded, 'Work phone')];
  const pub = await createToken(embedded, 'publish', ['imported-topic'], 'deploy script');
  // The kitchen phone fetched (and acked) the first SEEN before it went offline: its progress is imported too.
  const early = new Phone(phones[0]);
  await early.connect(embedded);
  const seen = await burst(embedded, SEEN, 'seen');
  await early.waitFor(() => seen.every((id) => early.unique.has(id)), 60_000, 'the early ones');
  await early.sentinel(embedded);
  // One of them dismissed on the phone: the dismissal and its seq come along (history shows it dismissed).
  await early.dismiss(seen[0]);
  early.disconnect();
  expect((await embedded.admin('PUT', '/api/v1/admin/password', { password: PASSWORD })).status).toBe(200);
  const later = await send('POST', `${embedded.adminUrl}/imported-topic`, 'scheduled before the move', { authorization: `Bearer ${pub.token}`, 'X-Delay': '2h' });
  expect(later.status).toBe(200);
  const ids = await burst(embedded, TOTAL, 'imported');
  const before = await history(embedded);
  expect(before).toHaveLength(TOTAL + SEEN + 1);
  const caPem = embedded.caPem;
  expect(await embedded.stop()).toBe(0);
  // A key the install signed with before its last rotation: it joins the cluster's ring too.
  const keysDir = path.join(embedded.dataDir, 'keys');
  const newest = Math.max(...fs.readdirSync(keysDir).flatMap((f) => /^signing-(\d+)\.pem$/.exec(f)?.[1] ?? []).map(Number));
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  fs.writeFileSync(path.join(keysDir, `signing-${newest - 1000}.pem`), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });

  // While the daemon runs the import is refused (the data-directory lock).
  const locked = await start({ dataDir: embedded.dataDir });
  const refusedWhileRunning = await beep(embedded.dataDir, ['cluster', 'init', '--redis', redis.url]);
  expect(refusedWhileRunning.status).toBe(1);
  expect(refusedWhileRunning.stderr).toMatch(/Beep is running/);
  expect(await client.exists('beep:trust:ca')).toBe(0);
  expect(await locked.stop()).toBe(0);

  const init = await beep(embedded.dataDir, ['cluster', 'init', '--redis', redis.url]);
  expect({ status: init.status, stderr: init.stderr }).toEqual({ status: 0, stderr: expect.not.stringMatching(/error|refused/i) });
  expect(init.stdout).toMatch(/2 devices \(Kitchen phone, Work phone\)/);
  expect(Number(await client.get('beep:seq'))).toBeGreaterThanOrEqual(TOTAL);
  expect((await client.hkeys('beep:trust:signing-keys')).map(Number).sort()).toEqual([newest - 1000, newest]);

  // Run again, it says the install is already the cluster's and changes nothing.
  const twice = await beep(embedded.dataDir, ['cluster', 'init', '--redis', redis.url]);
  expect(twice.status).toBe(1);
  expect(twice.stderr).toMatch(/already the cluster's/);

  // A on the install's directory, B on a fresh one with only the master key.
  const a = await start({ dataDir: embedded.dataDir, env });
  const b = await start({ dataDir: joiningDataDir(embedded.dataDir), env, config });
  // The same CA on both: the phones' pin holds without pairing again.
  expect(a.caPem).toBe(caPem);
  expect(b.caPem).toBe(caPem);
  expect((await a.admin('GET', '/api/v1/audit/verify')).body).toMatchObject({ ok: true });

  // Each phone with its old access token, one on each node: the 1,000, each once.
  const onA = new Phone(phones[0]);
  const onB = new Phone(phones[1]);
  await onA.connect(a);
  await onB.connect(b);
  for (const phone of [onA, onB]) await phone.waitFor(() => ids.every((id) => phone.unique.has(id)), 180_000, `the ${TOTAL} imported`);
  await onA.sentinel(a, 60_000);
  await onB.sentinel(b, 60_000);
  for (const phone of [onA, onB]) {
    const old = phone.arrivals.filter((n) => ids.includes(n.id));
    expect(old).toHaveLength(TOTAL);
  }
  // The kitchen phone's progress came with it: what it had fetched is not sent again; the work phone is owed those too.
  expect(onA.arrivals.filter((n) => seen.includes(n.id))).toHaveLength(0);
  const undismissed = seen.slice(1);
  expect(onB.arrivals.filter((n) => seen.includes(n.id)).map((n) => n.id).sort()).toEqual([...undismissed].sort());
  // Their refresh tokens rotate on either node.
  for (const [node, creds] of [[a, phones[0]], [b, phones[1]]] as const) {
    const refreshed = await node.gateway<Credentials>('POST', '/api/v1/token', { refreshToken: creds.refreshToken });
    expect(refreshed.status).toBe(200);
    creds.accessToken = refreshed.body.accessToken;
    creds.refreshToken = refreshed.body.refreshToken;
  }
  // The admin history reads as before (plus the two sentinels, newest).
  const after = await history(b);
  expect(after.slice(after.length - before.length)).toEqual(before);
  // The API token still publishes, through either node.
  const published = await send('POST', `${b.adminUrl}/imported-topic`, 'published with the imported token', { authorization: `Bearer ${pub.token}` });
  expect(published.status).toBe(200);
  await onA.withBody('published with the imported token', 30_000);
  onA.disconnect();
  onB.disconnect();

  // What was scheduled and not yet due is listed by either node.
  expect((await b.admin<{ id: string }[]>('GET', '/api/v1/scheduled')).body.map((e) => e.id)).toEqual([later.body.id]);
  // The dashboard password (the Gotify login uses it) works on the node that never had it.
  expect((await send('GET', `${b.adminUrl}/current/user`, undefined, basic(PASSWORD))).status).toBe(200);
  expect((await send('GET', `${b.adminUrl}/current/user`, undefined, basic('not the password'))).status).toBe(401);

  // A second install joining the same cluster is refused, with what it would lose.
  const other = await start({ config });
  await pair(other, 'Spare tablet');
  const job = await createToken(other, 'publish', ['imported-topic'], 'backup job');
  expect(await other.stop()).toBe(0);
  const refused = await beep(other.dataDir, ['cluster', 'init', '--redis', redis.url]);
  expect(refused.status).toBe(1);
  expect(refused.stderr).toMatch(/not empty/);
  expect(refused.stderr).toMatch(/device "Spare tablet"/);
  expect(refused.stderr).toMatch(/API token \d+ "backup job"/);
  expect(await client.zcard('beep:devices')).toBe(2);
  // --force: only its plain API token comes (under a new id, same secret); the tablet must pair again.
  const forced = await beep(other.dataDir, ['cluster', 'init', '--redis', redis.url, '--force']);
  expect(forced.status).toBe(0);
  expect(forced.stdout).toMatch(/imported API token "backup job" \(was \d+, now \d+/);
  expect(forced.stdout).toMatch(/device "Spare tablet" .*pair it again/);
  expect(await client.zcard('beep:devices')).toBe(2);
  const viaForced = await send('POST', `${a.adminUrl}/imported-topic`, 'published with the forced token', { authorization: `Bearer ${job.token}` });
  expect(viaForced.status).toBe(200);

  // Export: a fresh directory with the cluster's master key becomes an embedded install.
  expect(await a.stop()).toBe(0);
  expect(await b.stop()).toBe(0);
  const exportDir = tempDir('beep-export-');
  fs.mkdirSync(path.join(exportDir, 'keys'), { mode: 0o700 });
  fs.copyFileSync(path.join(embedded.dataDir, 'keys', 'master.key'), path.join(exportDir, 'keys', 'master.key'));
  const exported = await beep(exportDir, ['cluster', 'export', '--redis', redis.url]);
  expect({ status: exported.status, stderr: exported.stderr }).toEqual({ status: 0, stderr: expect.not.stringMatching(/error|refused/i) });
  const back = await start({ dataDir: exportDir, config });
  expect(back.caPem).toBe(caPem);
  expect((await back.admin('GET', '/api/v1/audit/verify')).body).toMatchObject({ ok: true });
  const restored = await history(back);
  expect(restored.slice(restored.length - before.length)).toEqual(before);
  const again = [new Phone(phones[0]), new Phone(phones[1])];
  for (const phone of again) await phone.connect(back);
  const res = await post(back, { body: 'after export' });
  expect(res.status).toBe(202);
  for (const phone of again) {
    await phone.withBody('after export', 30_000);
    // What they had settled on the cluster is not sent again.
    expect(phone.arrivals.filter((n) => ids.includes(n.id))).toHaveLength(0);
    phone.disconnect();
  }
  const refreshed = await back.gateway<Credentials>('POST', '/api/v1/token', { refreshToken: phones[0].refreshToken });
  expect(refreshed.status).toBe(200);
  expect((await send('GET', `${back.adminUrl}/current/user`, undefined, basic(PASSWORD))).status).toBe(200);
  expect((await back.admin<{ id: string }[]>('GET', '/api/v1/scheduled')).body.map((e) => e.id)).toEqual([later.body.id]);
  expect((await send('POST', `${back.adminUrl}/imported-topic`, 'token after export', { authorization: `Bearer ${pub.token}` })).status).toBe(200);
});
