import http from 'node:http';
import { startDaemon, type HttpResult, type RunningDaemon } from '../helpers/daemon';

// Every rule of POST /api/v1/notifications (and the history query) on the admin listener,
// against the real daemon: exact status, exact error code, the PROTOCOL.md error shape, and
// nothing stored for a refused notification.

let daemon: RunningDaemon;

beforeAll(async () => {
  daemon = await startDaemon();
});

afterAll(async () => {
  await daemon?.stop();
});

const ERROR_KEYS = new Set(['code', 'message', 'details']);

/** Asserts PROTOCOL.md's error answer: exactly `{ error: { code, message, details? } }`, no stack. */
function expectError(res: { status: number; body: any; text: string }, status: number, code: string): void {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
  expect(Object.keys(res.body)).toEqual(['error']);
  expect(typeof res.body.error.message).toBe('string');
  expect(res.body.error.message.length).toBeGreaterThan(0);
  for (const key of Object.keys(res.body.error)) expect(ERROR_KEYS.has(key)).toBe(true);
  if ('details' in res.body.error) expect(typeof res.body.error.details).toBe('object');
  expect(res.text).not.toMatch(/\n\s+at |node_modules|\.js:\d+|\.ts:\d+|Error:/);
}

async function historyIds(): Promise<string[]> {
  const res = await daemon.admin('GET', '/api/v1/notifications?limit=500');
  expect(res.status).toBe(200);
  return (res.body as { id: string }[]).map((n) => n.id);
}

/** Posts and expects a refusal with nothing stored. */
async function expectRefused(
  body: unknown,
  status: number,
  code: string,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  const before = await historyIds();
  const res = await daemon.admin('POST', '/api/v1/notifications', body, headers);
  expectError(res, status, code);
  expect(await historyIds()).toEqual(before);
  return res;
}

async function expectAccepted(body: Record<string, unknown>): Promise<any> {
  const res = await daemon.admin('POST', '/api/v1/notifications', body);
  expect({ status: res.status, body: res.body }).toEqual({
    status: 202,
    body: { id: expect.any(String), acceptedAt: expect.any(String) },
  });
  const stored = (await daemon.admin('GET', '/api/v1/notifications?limit=500')).body.find((n: any) => n.id === res.body.id);
  expect(stored).toBeDefined();
  return stored;
}

/** A raw HTTP request, for what fetch will not send (a Host header). */
function rawRequest(method: string, urlPath: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: any; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: daemon.runtime.adminPort, method, path: urlPath, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = text;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, text });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('title', () => {
  test('missing, empty or whitespace-only → 400 title_required', async () => {
    await expectRefused({ body: 'no title' }, 400, 'title_required');
    await expectRefused({ title: '' }, 400, 'title_required');
    await expectRefused({ title: '   \t\n ' }, 400, 'title_required');
  });

  test('over 256 UTF-8 bytes → 400 title_too_long, measured in bytes not characters', async () => {
    await expectRefused({ title: 'a'.repeat(257) }, 400, 'title_too_long');
    // 86 × '€' (3 bytes each) = 258 bytes, only 86 characters.
    await expectRefused({ title: '€'.repeat(86) }, 400, 'title_too_long');
    // 64 × 4-byte emoji = 256 bytes but 128 UTF-16 units: accepted.
    const emoji = await expectAccepted({ title: '😀'.repeat(64) });
    expect(emoji.title).toBe('😀'.repeat(64));
  });

  test('exactly 256 ASCII bytes (and 85 × 3-byte chars = 255 bytes) are accepted', async () => {
    expect((await expectAccepted({ title: 'b'.repeat(256) })).title).toBe('b'.repeat(256));
    expect((await expectAccepted({ title: '€'.repeat(85) })).title).toBe('€'.repeat(85));
  });

  test('surrounding whitespace is trimmed, not refused', async () => {
    expect((await expectAccepted({ title: '  padded title \n' })).title).toBe('padded title');
  });

  test('wrong type → 400 invalid_type', async () => {
    await expectRefused({ title: 42 }, 400, 'invalid_type');
    await expectRefused({ title: null }, 400, 'invalid_type');
    await expectRefused({ title: ['a'] }, 400, 'invalid_type');
  });
});

describe('body and app', () => {
  test('body over 4096 bytes → 400 body_too_long; exactly 4096 accepted', async () => {
    await expectRefused({ title: 't', body: 'x'.repeat(4097) }, 400, 'body_too_long');
    // 1366 × 3 bytes = 4098 bytes in 1366 characters.
    await expectRefused({ title: 't', body: '€'.repeat(1366) }, 400, 'body_too_long');
    const stored = await expectAccepted({ title: 't', body: 'y'.repeat(4096) });
    expect(stored.body).toBe('y'.repeat(4096));
  });

  test('body of the wrong type → 400 invalid_type', async () => {
    await expectRefused({ title: 't', body: { text: 'x' } }, 400, 'invalid_type');
    await expectRefused({ title: 't', body: 7 }, 400, 'invalid_type');
  });

  test('app over 64 bytes → 400 app_too_long; exactly 64 accepted', async () => {
    await expectRefused({ title: 't', app: 'a'.repeat(65) }, 400, 'app_too_long');
    await expectRefused({ title: 't', app: '€'.repeat(22) }, 400, 'app_too_long');
    expect((await expectAccepted({ title: 't', app: 'c'.repeat(64) })).app).toBe('c'.repeat(64));
  });
});

describe('priority', () => {
  test.each([[0], [6], [2.5], [-1], ['3'], ['bogus'], [''], [true], [null], [{}]])('%p → 400 invalid_priority', async (priority) => {
    await expectRefused({ title: 't', priority }, 400, 'invalid_priority');
  });

  test('names and 1-5 are accepted and stored as numbers', async () => {
    expect((await expectAccepted({ title: 't', priority: 'urgent' })).priority).toBe(5);
    expect((await expectAccepted({ title: 't', priority: 'min' })).priority).toBe(1);
    expect((await expectAccepted({ title: 't', priority: 4 })).priority).toBe(4);
    expect((await expectAccepted({ title: 't' })).priority).toBe(3);
  });
});

describe('tags', () => {
  const tags = (n: number) => Array.from({ length: n }, (_, i) => `tag${i}`);

  test('11 tags → 400 too_many_tags; 10 accepted', async () => {
    await expectRefused({ title: 't', tags: tags(11) }, 400, 'too_many_tags');
    expect((await expectAccepted({ title: 't', tags: tags(10) })).tags).toEqual(tags(10));
  });

  test('a 33-byte, empty or non-string tag → 400 invalid_tag; 32 bytes accepted', async () => {
    await expectRefused({ title: 't', tags: ['ok', 'z'.repeat(33)] }, 400, 'invalid_tag');
    await expectRefused({ title: 't', tags: [''] }, 400, 'invalid_tag');
    await expectRefused({ title: 't', tags: ['   '] }, 400, 'invalid_tag');
    await expectRefused({ title: 't', tags: [5] }, 400, 'invalid_tag');
    await expectRefused({ title: 't', tags: [{ a: 1 }] }, 400, 'invalid_tag');
    expect((await expectAccepted({ title: 't', tags: ['z'.repeat(32)] })).tags).toEqual(['z'.repeat(32)]);
  });

  test('tags that are not an array → 400 invalid_type', async () => {
    await expectRefused({ title: 't', tags: 'one' }, 400, 'invalid_type');
  });
});

describe('url, topic, id', () => {
  test.each([['ftp://example.com/file'], ['javascript:alert(1)'], ['/relative/path'], ['example.com/x'], ['']])(
    'url %p → 400 invalid_url',
    async (url) => {
      await expectRefused({ title: 't', url }, 400, 'invalid_url');
    },
  );

  test('http and https urls are accepted', async () => {
    expect((await expectAccepted({ title: 't', url: 'https://example.com/a?b=c#d' })).url).toBe('https://example.com/a?b=c#d');
    expect((await expectAccepted({ title: 't', url: 'http://192.168.1.2:8080/' })).url).toBe('http://192.168.1.2:8080/');
  });

  test('topic with a space → 400 invalid_topic', async () => {
    await expectRefused({ title: 't', topic: 'has space' }, 400, 'invalid_topic');
    expect((await expectAccepted({ title: 't', topic: 'backups_1-a' })).topic).toBe('backups_1-a');
  });

  test('id with a slash or 65 characters → 400 invalid_id; 64 accepted', async () => {
    await expectRefused({ title: 't', id: 'a/b' }, 400, 'invalid_id');
    await expectRefused({ title: 't', id: 'i'.repeat(65) }, 400, 'invalid_id');
    await expectRefused({ title: 't', id: '' }, 400, 'invalid_id');
    const stored = await expectAccepted({ title: 't', id: 'I'.repeat(64) });
    expect(stored.id).toBe('I'.repeat(64));
  });
});

describe('unknown fields', () => {
  test('an unknown field → 400 unknown_field', async () => {
    await expectRefused({ title: 't', sound: 'ding' }, 400, 'unknown_field');
  });

  test('__proto__ and constructor keys → 400 unknown_field, and the daemon still serves', async () => {
    await expectRefused('{"title":"t","__proto__":{"polluted":true}}', 400, 'unknown_field');
    await expectRefused('{"title":"t","constructor":{"prototype":{"polluted":true}}}', 400, 'unknown_field');
    await expectRefused('{"title":"t","prototype":1}', 400, 'unknown_field');
    const health = await daemon.admin('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('ok');
    const stored = await expectAccepted({ title: 'after proto' });
    expect(stored).not.toHaveProperty('polluted');
    const history = await daemon.admin('GET', '/api/v1/notifications?limit=500');
    for (const n of history.body) expect(n).not.toHaveProperty('polluted');
  });
});

describe('body format', () => {
  test('a JSON array, string, number or null → 400 invalid_type', async () => {
    await expectRefused([{ title: 't' }], 400, 'invalid_type');
    await expectRefused('"just a string"', 400, 'invalid_type');
    await expectRefused('42', 400, 'invalid_type');
    await expectRefused('null', 400, 'invalid_type');
  });

  test('malformed JSON → 400 invalid_json (not 500)', async () => {
    await expectRefused('{"title": "t",', 400, 'invalid_json');
    await expectRefused("{title: 't'}", 400, 'invalid_json');
  });

  test('an empty body → 400', async () => {
    const res = await expectRefused('', 400, 'invalid_json');
    expect(res.status).toBe(400);
    const noBody = await daemon.admin('POST', '/api/v1/notifications');
    expectError(noBody, 400, 'invalid_json');
  });

  test('a body over 64 KiB → 413 payload_too_large', async () => {
    await expectRefused({ title: 't', body: 'x'.repeat(70 * 1024) }, 413, 'payload_too_large');
  });

  test('text/plain → 415 unsupported_media_type', async () => {
    await expectRefused(JSON.stringify({ title: 't' }), 415, 'unsupported_media_type', { 'content-type': 'text/plain' });
  });
});

describe('authentication and host', () => {
  test('missing Authorization → 401 unauthenticated', async () => {
    const before = await historyIds();
    const res = await rawRequest('POST', '/api/v1/notifications', { host: '127.0.0.1', 'content-type': 'application/json' }, JSON.stringify({ title: 't' }));
    expectError(res, 401, 'unauthenticated');
    const basic = await daemon.admin('POST', '/api/v1/notifications', { title: 't' }, { authorization: 'Basic Zm9vOmJhcg==' });
    expectError(basic, 401, 'unauthenticated');
    expect(await historyIds()).toEqual(before);
  });

  test('a wrong token → 401 invalid_token', async () => {
    await expectRefused({ title: 't' }, 401, 'invalid_token', { authorization: 'Bearer not-the-admin-token' });
    await expectRefused({ title: 't' }, 401, 'invalid_token', { authorization: `Bearer ${daemon.adminToken}x` });
  });

  test('a Host header of evil.example → 403 forbidden_host, even with the right token', async () => {
    const before = await historyIds();
    const res = await rawRequest(
      'POST',
      '/api/v1/notifications',
      { host: 'evil.example', authorization: `Bearer ${daemon.adminToken}`, 'content-type': 'application/json' },
      JSON.stringify({ title: 'rebinding' }),
    );
    expectError(res, 403, 'forbidden_host');
    const read = await rawRequest('GET', '/api/v1/notifications', { host: `evil.example:${daemon.runtime.adminPort}`, authorization: `Bearer ${daemon.adminToken}` });
    expectError(read, 403, 'forbidden_host');
    expect(await historyIds()).toEqual(before);
    // The same raw request with a loopback Host is served, so the 403 above is the Host's doing.
    const ok = await rawRequest('GET', '/api/v1/notifications?limit=1', { host: `localhost:${daemon.runtime.adminPort}`, authorization: `Bearer ${daemon.adminToken}` });
    expect(ok.status).toBe(200);
  });
});

describe('idempotency', () => {
  test('the same client id twice → 202 then 200 with the same id and acceptedAt, stored once', async () => {
    const body = { title: 'once only', id: 'idem-key_1' };
    const first = await daemon.admin('POST', '/api/v1/notifications', body);
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ id: 'idem-key_1', acceptedAt: expect.any(String) });
    expect(new Date(first.body.acceptedAt).toISOString()).toBe(first.body.acceptedAt);
    const second = await daemon.admin('POST', '/api/v1/notifications', body);
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
    expect(second.body.acceptedAt).toBe(first.body.acceptedAt);
    const ids = await historyIds();
    expect(ids.filter((id) => id === 'idem-key_1')).toHaveLength(1);
  });
});

describe('history', () => {
  test('limit=0, limit=abc, limit=501 and a bad before → 400 invalid_query', async () => {
    for (const query of ['limit=0', 'limit=abc', 'limit=501', 'limit=-1', 'limit=', 'before=not%20an%20id']) {
      expectError(await daemon.admin('GET', `/api/v1/notifications?${query}`), 400, 'invalid_query');
    }
    expect((await daemon.admin('GET', '/api/v1/notifications?limit=500')).status).toBe(200);
  });

  test('newest first, and before=<id> pages back', async () => {
    const ids = ['page-a', 'page-b', 'page-c', 'page-d'];
    for (const id of ids) await expectAccepted({ title: `page ${id}`, id });
    const top = await daemon.admin('GET', '/api/v1/notifications?limit=2');
    expect(top.status).toBe(200);
    expect(top.body.map((n: any) => n.id)).toEqual(['page-d', 'page-c']);
    const next = await daemon.admin('GET', '/api/v1/notifications?limit=2&before=page-c');
    expect(next.body.map((n: any) => n.id)).toEqual(['page-b', 'page-a']);
    const all = await daemon.admin('GET', '/api/v1/notifications?limit=500');
    const times = all.body.map((n: any) => Date.parse(n.createdAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    // The wire shape, decrypted, plus dismissedAt.
    expect(Object.keys(all.body[0]).sort()).toEqual(
      ['id', 'title', 'body', 'app', 'priority', 'tags', 'url', 'topic', 'source', 'createdAt', 'dismissedAt'].sort(),
    );
    expect(all.body[0]).toMatchObject({ id: 'page-d', title: 'page page-d', source: 'http', dismissedAt: null });
  });

  test('an unknown path → 404 not_found JSON', async () => {
    expectError(await daemon.admin('GET', '/api/v1/nothing-here'), 404, 'not_found');
    expectError(await daemon.admin('GET', '/definitely/not/here'), 404, 'not_found');
    expectError(await daemon.admin('POST', '/api/v1/nothing-here', { title: 't' }), 404, 'not_found');
  });
});
