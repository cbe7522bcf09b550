import fc from 'fast-check';
import { actionsFromHeader, actionsFromJson } from '../../../app/compat/ntfy/ntfy-actions';
import { parseSimpleActions } from '../../../app/compat/ntfy/ntfy-action-syntax';
import { HttpActionRunner, isSpecialAddress, type ResolveAll } from '../../../app/compat/ntfy/http-action';
import { ActionService } from '../../../app/compat/ntfy/action-service';
import { toWire, type StoredNotification } from '../../../app/domain/notification';
import { toNtfyMessage } from '../../../app/compat/ntfy/ntfy-message';
import { redactValue } from '../../../app/observability/redact';

// ntfy's action parsing rules (server/actions.go, docs/publish.md "Action buttons") and the
// checks an http action passes before the daemon sends it.

const strip = (a: object[]) => a.map(({ id: _id, ...rest }: any) => rest);

describe('the short format, as ntfy reads it', () => {
  test.each([
    // docs/publish.md's examples
    ['view, Open portal, https://home.nest.com/, clear=true', [{ action: 'view', label: 'Open portal', url: 'https://home.nest.com/', clear: true }]],
    [
      'http, Turn down, https://api.nest.com/, body=\'{"temp": 65}\'',
      [{ action: 'http', label: 'Turn down', url: 'https://api.nest.com/', clear: false, method: 'POST', body: '{"temp": 65}' }],
    ],
    [
      'action=http, label=Close door, url=https://api.mygarage.lan/, method=PUT, headers.Authorization=Bearer zAzsx1sk.., body={"action": "close"}',
      [{ action: 'http', label: 'Close door', url: 'https://api.mygarage.lan/', clear: false, method: 'PUT', headers: { Authorization: 'Bearer zAzsx1sk..' }, body: '{"action": "close"}' }],
    ],
    // The ntfy package writes the body as a bare fourth term: ntfy refuses it, and so does Beep.
    ['http, Close door, https://api.mygarage.lan, method=PUT, {"action": "close"}', 'bare-body'],
    [
      'view, "Look ma, commas and \\"quotes\\" too", https://a.lan/; http, Off, https://b.lan/, method=delete',
      [
        { action: 'view', label: 'Look ma, commas and "quotes" too', url: 'https://a.lan/', clear: false },
        { action: 'http', label: 'Off', url: 'https://b.lan/', clear: false, method: 'DELETE' },
      ],
    ],
    ["http, 'A;b', https://c.lan/, headers.X-Key = k1 , clear=yes", [{ action: 'http', label: 'A;b', url: 'https://c.lan/', clear: true, method: 'POST', headers: { 'X-Key': 'k1' } }]],
    ['  VIEW ,  x  , https://d.lan/ ; ', [{ action: 'view', label: 'x', url: 'https://d.lan/', clear: false }]],
  ])('%s', (text, expected) => {
    if (expected === 'bare-body') {
      expect(() => actionsFromHeader(text)).toThrow(/term '\{"action": "close"\}' unknown/);
      return;
    }
    expect(strip(actionsFromHeader(text))).toEqual(expected);
  });

  test('syntax errors in ntfy\'s words', () => {
    expect(() => parseSimpleActions('view, "open, https://a.lan/', 3)).toThrow(/unexpected end of input, quote started at position 7/);
    expect(() => parseSimpleActions('view, "open" x, https://a.lan/', 3)).toThrow(/unexpected character 'x'/);
    expect(() => parseSimpleActions('view, a, https://a.lan/, clear=maybe', 3)).toThrow(/'clear' cannot be 'maybe'/);
    expect(() => parseSimpleActions('view, a, https://a.lan/, stray', 3)).toThrow(/term 'stray' unknown/);
  });

  test('each action gets its own id; the text never loops or throws anything but a catalog error', () => {
    const [a, b] = actionsFromHeader('view, a, https://a.lan/; view, b, https://b.lan/');
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{10}$/);
    expect(a.id).not.toBe(b.id);
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        try {
          actionsFromHeader(text);
        } catch (error) {
          expect((error as { code?: string }).code).toMatch(/^(invalid_actions|unsupported_parameter)$/);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('validation (both syntaxes)', () => {
  test.each([
    ['broadcast, Take picture, extras.cmd=pic', 'unsupported_parameter', /Android broadcast intent/],
    ['view, a, https://a.lan/; view, b, https://b.lan/; view, c, https://c.lan/; view, d, https://d.lan/', 'invalid_actions', /at most 3/],
    ['copy, a', 'invalid_actions', /cannot be 'copy'/],
    ['view, , https://a.lan/', 'invalid_actions', /'label' is required/],
    ['http, a', 'invalid_actions', /'url' is required for action 'http'/],
    ['http, a, https://a.lan/, method=HEAD, body=x', 'invalid_actions', /body.*HEAD/],
    ['http, a, https://a.lan/, method=CONNECT', 'invalid_actions', /method 'CONNECT'/],
    ['http, a, https://a.lan/, headers.Host=evil', 'invalid_actions', /'Host' cannot be set/],
    ['http, a, https://a.lan/, headers.Bad Name=x', 'invalid_actions', /term 'headers.Bad Name=x' unknown/],
    ['view, a, javascript:alert(1)', 'invalid_actions', /http or https/],
    ['view, a, https://a.lan/, method=PUT', 'invalid_actions', /belong to http actions/],
  ])('%s → %s', (text, code, message) => {
    let error: any;
    try {
      actionsFromHeader(text);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code, status: 400 });
    expect(error.message).toMatch(message);
  });

  test('JSON: ntfy\'s field names, unknown fields ignored, wrong types refused', () => {
    expect(strip(actionsFromJson([{ action: 'http', label: 'x', url: 'https://a.lan/', method: 'put', headers: { A: 'b' }, body: 'b', clear: true, id: 'given', extra: 1 }]))).toEqual([
      { action: 'http', label: 'x', url: 'https://a.lan/', method: 'PUT', headers: { A: 'b' }, body: 'b', clear: true },
    ]);
    expect(actionsFromJson(undefined)).toEqual([]);
    expect(() => actionsFromJson({})).toThrow(/must be an array/);
    expect(() => actionsFromJson([{ action: 'view', label: 'x', url: 'https://a.lan/', clear: 'yes' }])).toThrow(/'clear' must be a boolean/);
    expect(() => actionsFromJson([{ action: 'http', label: 'x', url: 'https://a.lan/', headers: { A: 1 } }])).toThrow(/'headers.A' must be a string/);
    expect(() => actionsFromHeader('[{"action": "view",')).toThrow(/JSON error/);
  });
});

describe('what each audience is given', () => {
  const [view, http] = actionsFromHeader('view, Open, https://a.lan/, clear=true; http, Close, https://b.lan/, method=PUT, headers.Authorization=Bearer s3cret, body=go');
  const n = { seq: 1, id: 'n1', title: 't', body: 'b', app: '', priority: 3, tags: [], url: null, topic: 'x', source: 'ntfy', createdAt: new Date(0).toISOString(), dismissedAt: null, actions: [view, http] } as StoredNotification;

  test('a phone gets the buttons without an http action\'s headers and body; ntfy subscribers get ntfy\'s whole JSON', () => {
    expect(toWire(n).actions).toEqual([
      { id: view.id, action: 'view', label: 'Open', url: 'https://a.lan/', clear: true },
      { id: http.id, action: 'http', label: 'Close', url: 'https://b.lan/', clear: false, method: 'PUT' },
    ]);
    expect(toNtfyMessage(n, 60).actions).toEqual([view, http]);
    expect(toWire({ ...n, actions: undefined })).not.toHaveProperty('actions');
  });

  test('log lines never carry an action\'s headers (redaction by key)', () => {
    expect(JSON.stringify(redactValue({ notification: { actions: [http] }, 'x-actions': 'http, a, https://b.lan/, headers.X-Key=k' }))).not.toMatch(/s3cret|X-Key=k/);
  });
});

describe('an http action is sent only where the user allowed', () => {
  const policy = { timeoutMs: 1000, maxResponseBytes: 1024, resultChars: 100 };
  const resolver = (map: Record<string, string[]>): ResolveAll => async (host) => (map[host] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

  test('loopback, link-local, unspecified and multicast addresses are special', () => {
    for (const a of ['127.0.0.1', '127.9.9.9', '0.0.0.0', '169.254.169.254', '224.0.0.1', '::1', '[::1]', '::', 'fe80::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:169.254.1.1']) expect([a, isSpecialAddress(a)]).toEqual([a, true]);
    for (const a of ['10.0.0.5', '192.168.1.20', '172.16.0.1', '8.8.8.8', 'fd00::5', '2001:db8::1', '::ffff:192.168.1.2']) expect([a, isSpecialAddress(a)]).toEqual([a, false]);
  });

  test('the name must be listed, and every address it resolves to is checked (a DNS answer cannot reach this PC)', async () => {
    const runner = new HttpActionRunner(
      { ...policy, hosts: ['garage.lan', 'rebind.lan', 'mixed.lan', 'cloud.lan', '127.0.0.1', 'LOCALHOST'] },
      resolver({ 'garage.lan': ['192.168.1.40'], 'rebind.lan': ['169.254.169.254'], 'mixed.lan': ['192.168.1.41', '127.0.0.2'], localhost: ['127.0.0.1', '::1'], 'cloud.lan': [] }),
    );
    await expect(runner.check(new URL('http://garage.lan:8080/x'))).resolves.toBe('192.168.1.40');
    await expect(runner.check(new URL('http://127.0.0.1:9/'))).resolves.toBe('127.0.0.1');
    await expect(runner.check(new URL('http://other.lan/'))).rejects.toMatchObject({ code: 'action_forbidden', message: expect.stringContaining('"other.lan" is not on') });
    await expect(runner.check(new URL('http://192.168.1.40/'))).rejects.toMatchObject({ code: 'action_forbidden' });
    await expect(runner.check(new URL('http://rebind.lan/'))).rejects.toMatchObject({ code: 'action_forbidden', message: expect.stringContaining('169.254.169.254') });
    await expect(runner.check(new URL('http://mixed.lan/'))).rejects.toMatchObject({ code: 'action_forbidden', message: expect.stringContaining('127.0.0.2') });
    // localhost listed, but ::1 is not: refused (127.0.0.1 alone would pass).
    await expect(runner.check(new URL('http://localhost/'))).rejects.toMatchObject({ code: 'action_forbidden', message: expect.stringContaining('::1') });
    await expect(runner.check(new URL('http://cloud.lan/'))).rejects.toMatchObject({ code: 'action_failed' });
  });

  test('an empty list (the default) allows nothing', async () => {
    const runner = new HttpActionRunner({ ...policy, hosts: [] }, resolver({}));
    await expect(runner.check(new URL('http://127.0.0.1/'))).rejects.toMatchObject({ code: 'action_forbidden' });
  });
});

test('any headers object in a log line has its values masked (an http action\'s X-Api-Key included)', () => {
  expect(redactValue({ headers: { 'X-Api-Key': 'k-123', 'content-type': 'text/plain' } })).toEqual({ headers: { 'X-Api-Key': '[redacted]', 'content-type': 'text/plain' } });
});

describe('ActionService', () => {
  const [httpAction, viewAction] = actionsFromHeader('http, Close, https://garage.lan/, clear=true; view, Open, https://a.lan/');
  const n = { seq: 1, id: 'n1', title: 't', body: 'b', app: '', priority: 3, tags: [], url: null, topic: null, source: 'ntfy', createdAt: '', dismissedAt: null, actions: [httpAction, viewAction] } as StoredNotification;

  function service(perform: () => Promise<{ status: number; body: string; truncated: boolean }>) {
    const audit: [string, Record<string, unknown>][] = [];
    const dismissed: string[] = [];
    const s = new ActionService({
      lookup: { notificationForDevice: async (_d, id) => (id === 'n1' ? n : undefined) },
      runner: { perform },
      dismiss: async (id) => (dismissed.push(id), true),
      audit: (event, _device, details) => audit.push([event, details]),
      maxInFlight: 2,
    });
    return { s, audit, dismissed };
  }

  test('only http actions of a notification the device may see; clear after a 2xx; audited without headers', async () => {
    const { s, audit, dismissed } = service(async () => ({ status: 204, body: '', truncated: false }));
    expect(await s.perform('d1', 'n1', viewAction.id)).toMatchObject({ error: { code: 'not_found' } });
    expect(await s.perform('d1', 'other', httpAction.id)).toMatchObject({ error: { code: 'not_found' } });
    expect(await s.perform('d1', 'n1', httpAction.id)).toEqual({ ok: true, status: 204, body: '', cleared: true });
    expect(dismissed).toEqual(['n1']);
    expect(audit).toEqual([['http_action', { notificationId: 'n1', actionId: httpAction.id, host: 'garage.lan', method: 'POST', status: 204 }]]);
  });

  test('a device may have only so many requests in flight', async () => {
    const waiting: (() => void)[] = [];
    const { s } = service(() => new Promise((resolve) => waiting.push(() => resolve({ status: 200, body: 'ok', truncated: false }))));
    const first = s.perform('d1', 'n1', httpAction.id);
    const second = s.perform('d1', 'n1', httpAction.id);
    await new Promise((r) => setImmediate(r));
    expect(await s.perform('d1', 'n1', httpAction.id)).toMatchObject({ error: { code: 'rate_limited' } });
    expect(waiting).toHaveLength(2);
    const other = s.perform('d2', 'n1', httpAction.id); // another device has its own budget
    await new Promise((r) => setImmediate(r));
    for (const go of waiting) go();
    await Promise.all([first, second, other]);
    const again = s.perform('d1', 'n1', httpAction.id); // the budget is back once they answered
    await new Promise((r) => setImmediate(r));
    waiting[waiting.length - 1]();
    expect(await again).toMatchObject({ ok: true, status: 200 });
  });
});
