import Database from 'better-sqlite3';
import path from 'node:path';
import { createToken, HAMMER_LIMITS, send } from '../helpers/compat';
import { startDaemon, type RunningDaemon } from '../helpers/daemon';
import { parseMetrics, value } from '../helpers/metrics';

// The audit log may not grow once per request: N wrong tokens from one address are one entry
// with a count, N publishes with one token are one `api_token_used` entry that day, requests
// with no credential at all are only counted (metrics). Real daemon, real ntfy requests.

const WRONG = 12;
const PUBLISHES = 15;
const BARE = 10;

let daemon: RunningDaemon;

beforeAll(async () => {
  daemon = await startDaemon({ config: { compat: { tokenFailures: 1_000 }, rateLimits: HAMMER_LIMITS } });
});

afterAll(async () => {
  await daemon?.stop();
});

const ntfy = (topic: string, headers: Record<string, string> = {}) => send('POST', `${daemon.adminUrl}/${topic}`, 'disk full', headers);
const day = (ms: number) => Math.floor(ms / 86_400_000);

/** The WRONG failures as one entry with the count (two if a 10-minute boundary fell inside the loop). */
function expectOneEntryPerWindow(entries: { details: Record<string, unknown> }[]): void {
  expect(entries.reduce((n, e) => n + Number(e.details.count), 0)).toBe(WRONG);
  expect(entries.length).toBeGreaterThanOrEqual(1);
  expect(new Set(entries.map((e) => JSON.stringify(e.details.window))).size).toBe(entries.length);
  expect(entries.length).toBeLessThanOrEqual(2);
}

function rows(dataDir: string, event: string): { seq: number; at_ms: number; actor: string; details: Record<string, unknown> }[] {
  const db = new Database(path.join(dataDir, 'beep.db'), { readonly: true });
  try {
    const found = db.prepare('SELECT seq, at_ms, actor, details FROM audit_log WHERE event = ? ORDER BY seq').all(event) as { seq: number; at_ms: number; actor: string; details: string }[];
    return found.map((r) => ({ ...r, details: JSON.parse(r.details) as Record<string, unknown> }));
  } finally {
    db.close();
  }
}

test('wrong tokens: one entry per address per window with the count; good publishes: one entry per token per day; no token: metrics only', async () => {
  const pub = await createToken(daemon, 'publish', undefined, 'scripts');
  for (let i = 0; i < WRONG; i++) expect((await ntfy('alerts', { authorization: `Bearer tk_wrong${i}` })).status).toBe(401);
  for (let i = 0; i < PUBLISHES; i++) expect((await ntfy('alerts', { authorization: `Bearer ${pub.token}` })).status).toBe(200);
  for (let i = 0; i < BARE; i++) expect((await ntfy('alerts')).status).toBe(401);

  // While the window is open the admin list shows it, counted.
  const listed = (await daemon.admin('GET', '/api/v1/audit?limit=500')).body as { seq: number | null; event: string; actor: string; details: Record<string, unknown> }[];
  expectOneEntryPerWindow(listed.filter((e) => e.event === 'api_token_refused'));
  expect(listed.find((e) => e.event === 'api_token_refused')).toMatchObject({ seq: null, pending: true, actor: 'ip:127.0.0.1', details: { reason: 'unknown_or_revoked' } });
  const metrics = parseMetrics((await daemon.admin('GET', '/metrics')).text);
  expect(value(metrics, 'beep_security_events_total', { event: 'api_token_missing' })).toBe(BARE);
  expect(value(metrics, 'beep_security_events_total', { event: 'api_token_refused' })).toBe(WRONG);
  expect(value(metrics, 'beep_security_events_total', { event: 'api_token_used' })).toBe(PUBLISHES);

  // A clean stop writes the open window (the sentinel that everything was written); then count rows.
  await daemon.stop();
  const refused = rows(daemon.dataDir, 'api_token_refused');
  expectOneEntryPerWindow(refused);
  expect(refused[0].actor).toBe('ip:127.0.0.1');
  const used = rows(daemon.dataDir, 'api_token_used').filter((r) => r.actor === `token:${pub.id}`);
  expect(used.length).toBeGreaterThanOrEqual(1);
  expect(new Set(used.map((r) => day(r.at_ms))).size).toBe(used.length); // one a day (a UTC midnight may fall inside the test)
  expect(rows(daemon.dataDir, 'api_token_missing')).toEqual([]);

  // Across a restart, the same day: still no second `api_token_used` entry for the token.
  daemon = await daemon.restart();
  expect((await ntfy('alerts', { authorization: `Bearer ${pub.token}` })).status).toBe(200);
  expect((await daemon.cli(['audit', 'verify'])).status).toBe(0);
  await daemon.stop();
  const after = rows(daemon.dataDir, 'api_token_used').filter((r) => r.actor === `token:${pub.id}`);
  expect(new Set(after.map((r) => day(r.at_ms))).size).toBe(after.length);
  expect(after.length).toBeLessThanOrEqual(used.length + 1);
  if (day(after[after.length - 1].at_ms) === day(used[used.length - 1].at_ms)) expect(after).toHaveLength(used.length);
});
