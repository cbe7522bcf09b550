import { startDaemon, type RunningDaemon } from '../helpers/daemon';

// The rules' keyword patterns are the user's regular expressions, run on every notification
// on the event loop. A catastrophic pattern must not stall it: patterns run on a linear-time
// engine (RE2), and what RE2 cannot run (backreferences, lookaround) is refused when saved.

/** ms allowed for an answer that a stalled loop would never give: generous, not a benchmark. */
const ANSWER_WITHIN_MS = 15_000;

let daemon: RunningDaemon;

beforeAll(async () => {
  daemon = await startDaemon();
});

afterAll(async () => {
  // A stalled daemon cannot handle SIGTERM: kill it if it does not stop.
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise((r) => (timer = setTimeout(() => r('stuck'), 5_000)));
  const stopped = await Promise.race([daemon?.stop(), stuck]);
  clearTimeout(timer);
  if (stopped === 'stuck') await daemon.kill();
});

async function putRules(keywords: unknown[]) {
  return daemon.admin('PUT', '/api/v1/rules', { keywords });
}

/** fetch against the admin listener with a deadline: a stalled loop answers nothing. */
async function timed(path: string, init: RequestInit = {}): Promise<number> {
  const res = await fetch(`${daemon.adminUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${daemon.adminToken}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
    signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
  });
  await res.text();
  return res.status;
}

test('a catastrophic pattern ((a+)+$) on a long input: the ingest answer comes back and /health answers meanwhile', async () => {
  const saved = await putRules([
    { pattern: '(a+)+$', action: 'mute' },
    { pattern: '(x+x+)+y', action: 'redact', replacement: '#' },
  ]);
  expect(saved.status).toBe(200);
  const evil = { title: `${'a'.repeat(200)}!`, body: `${'a'.repeat(4000)}!${'x'.repeat(60)}` };
  const ingest = timed('/api/v1/notifications', { method: 'POST', body: JSON.stringify(evil) });
  const health = timed('/health');
  const [ingested, healthy] = await Promise.all([ingest, health]);
  expect(healthy).toBe(200);
  expect(ingested).toBe(202);
  // The patterns still do their job on input they match.
  const muted = await daemon.admin('POST', '/api/v1/notifications', { title: 'aaaa', body: 'b' });
  expect(muted.body).toEqual({ id: null, muted: 'keyword' });
  const redacted = await daemon.admin('POST', '/api/v1/notifications', { title: 'xxy here', body: 'b!' });
  expect(redacted.status).toBe(202);
  const history = (await daemon.admin('GET', '/api/v1/notifications?limit=1')).body as { title: string }[];
  expect(history[0].title).toBe('# here');
});

test('what RE2 cannot run is refused at save time with 400 invalid_rules and a clear reason', async () => {
  for (const pattern of ['(a)\\1', '(?=secret)\\w+', '(?!x)y', '(?<=a)b', '(?<!a)b']) {
    const res = await putRules([{ pattern, action: 'mute' }]);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_rules');
    expect(res.body.error.message).toMatch(/RE2|linear/);
    expect(res.body.error.message).toMatch(/backreference|lookaround|lookahead|lookbehind/);
  }
  // JavaScript spellings RE2 does run are kept: named groups, \d, \b, \u escapes, a slash.
  const ok = await putRules([{ pattern: '(?<code>\\b\\d{6}\\b)|caf\\u00e9|a/b', action: 'redact' }]);
  expect(ok.status).toBe(200);
});
