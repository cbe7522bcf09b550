import fc from 'fast-check';
import { rawHead } from '../helpers/attack';
import { createToken } from '../helpers/compat';
import { startDaemon, type RunningDaemon } from '../helpers/daemon';
import { parseMetrics } from '../helpers/metrics';
import { pair } from '../helpers/phone';

// Issue 11, "What it must show": a fuzz test of both listeners' edges. fast-check generates a
// few thousand requests from valid ones (2,000, ~15–45 s) (Host and authentication always valid), mutating one
// thing at a time: the target (escapes, absolute form, slashes, segments, query), a header,
// the method, the body, or the upgrade headers. Each is sent from its own loopback source
// address (127.0.0.0/8), so per-address budgets stay out of the way. The daemon must never
// answer 5xx, never log an unexpected error, and still answer /health at the end.

const CASES = 2_000;
const CONCURRENCY = 12;

let daemon: RunningDaemon;

beforeAll(async () => {
  daemon = await startDaemon();
});

afterAll(async () => {
  await daemon?.stop();
});

interface Template {
  listener: 'admin' | 'gateway';
  method: string;
  path: string;
  headers: [string, string][];
  body: string;
  upgrade: boolean;
}

interface Secrets {
  adminToken: string;
  publish: string;
  subscribe: string;
  refresh: string;
}

const WS_HEADERS: [string, string][] = [
  ['Upgrade', 'websocket'],
  ['Connection', 'Upgrade'],
  ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
  ['Sec-WebSocket-Version', '13'],
];

/** Valid requests, each reaching a route (or an upgrade route) as it stands. */
function templates(s: Secrets): Template[] {
  const admin = (method: string, path: string, headers: [string, string][] = [], body = '', upgrade = false): Template => ({
    listener: 'admin',
    method,
    path,
    headers: [['Authorization', `Bearer ${s.adminToken}`], ...headers],
    body,
    upgrade,
  });
  const gw = (method: string, path: string, headers: [string, string][] = [], body = '', upgrade = false): Template => ({
    listener: 'gateway',
    method,
    path,
    headers,
    body,
    upgrade,
  });
  const json: [string, string] = ['Content-Type', 'application/json'];
  return [
    admin('GET', '/health'),
    admin('GET', '/api/v1/devices'),
    admin('GET', '/api/v1/notifications?limit=3'),
    admin('POST', '/api/v1/notifications', [json], JSON.stringify({ title: 'fuzz', body: 'b', priority: 'low', tags: ['x'] })),
    admin('GET', '/api/v1/rules'),
    admin('GET', '/api/v1/tokens'),
    { ...admin('GET', '/fuzzed/json?poll=1'), headers: [['Authorization', `Bearer ${s.subscribe}`]] },
    { ...admin('PUT', '/fuzzed', [], 'hello from the fuzzer'), headers: [['Authorization', `Bearer ${s.publish}`]] },
    { ...admin('GET', '/message?limit=2'), headers: [['X-Gotify-Key', s.subscribe]] },
    { ...admin('POST', '/message', [], JSON.stringify({ message: 'm', title: 't' })), headers: [['X-Gotify-Key', s.publish], json] },
    { ...admin('GET', '/fuzzed/ws', [], '', true), headers: [['Authorization', `Bearer ${s.subscribe}`]] },
    { ...admin('GET', `/stream?token=${s.subscribe}`, [], '', true), headers: [] },
    gw('GET', '/ca.crt'),
    gw('GET', '/'),
    gw('GET', '/js/connection.js'),
    gw('POST', '/api/v1/token', [json], JSON.stringify({ refreshToken: s.refresh })),
    gw('POST', '/api/v1/pair', [json], JSON.stringify({ code: '00000000', name: 'fuzz', platform: 'x' })),
    gw('GET', '/fuzzed/json?poll=1', [['Authorization', `Bearer ${s.subscribe}`]]),
    gw('POST', '/fuzzed', [['Authorization', `Bearer ${s.publish}`]], 'gateway fuzz'),
    gw('GET', '/message?limit=2', [['X-Gotify-Key', s.subscribe]]),
    gw('GET', '/version'),
    gw('GET', '/socket.io/?EIO=4&transport=websocket', [], '', true),
    gw('GET', '/fuzzed/ws', [['Authorization', `Bearer ${s.subscribe}`]], '', true),
    gw('GET', '/stream', [['X-Gotify-Key', s.subscribe]], '', true),
  ];
}

/** Printable, no CR/LF (a header or target stays one thing; the parser's own 400s are fine). */
const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 });
const unicode = fc.string({ unit: 'grapheme', maxLength: 12 });
const escape = fc.oneof(
  fc.constantFrom('%', '%Z', '%ZZ', '%zz', '%%', '%00', '%2F', '%2f', '%5C', '%E0%A4%A', '%C0%AF', '%FF', '%F0%9F%98', '%25', '%u0041', '%20'),
  fc.tuple(fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), maxLength: 2 }), fc.constantFrom('', 'G', 'z', '/')).map(([h, x]) => `%${h}${x}`),
);
const headerName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/);

type Mutation = (t: Template) => Template;

function insertAt(text: string, at: number, piece: string): string {
  const i = Math.min(at, text.length);
  return text.slice(0, i) + piece + text.slice(i);
}

const targetMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(escape, fc.nat(60)).map(([e, at]) => (t: Template) => {
    const q = t.path.indexOf('?');
    const pathEnd = q < 0 ? t.path.length : q;
    return { ...t, path: insertAt(t.path, 1 + (at % Math.max(1, pathEnd)), e) };
  }),
  fc.tuple(fc.oneof(printable, unicode, fc.webSegment()), fc.nat(5)).map(([seg, n]) => (t: Template) => {
    const [path, query] = t.path.split('?');
    const segments = path.split('/');
    segments[1 + (n % Math.max(1, segments.length - 1))] = seg;
    return { ...t, path: segments.join('/') + (query !== undefined ? `?${query}` : '') };
  }),
  fc.tuple(fc.constantFrom('http', 'https', 'HTTP', 'ws'), fc.oneof(fc.domain(), fc.constantFrom('a', '[::1]', '127.0.0.1', '')), fc.integer({ min: -5, max: 100_000 })).map(
    ([scheme, host, port]) => (t: Template) => ({ ...t, path: `${scheme}://${host}:${port}${t.path}` }),
  ),
  fc.constantFrom('//', '/\\', '/./', '/../', '/%2e%2e/', '\\', '*', '').map((prefix) => (t: Template) => ({ ...t, path: prefix === '*' || prefix === '' ? prefix : `${prefix}${t.path.slice(1)}` })),
  fc.tuple(fc.oneof(printable, escape), fc.oneof(printable, escape, unicode)).map(([k, v]) => (t: Template) => ({ ...t, path: `${t.path}${t.path.includes('?') ? '&' : '?'}${k}=${v}` })),
  fc.constantFrom('?', '#frag', '?%', '?a=%ZZ&b', '/', '//', '/json', '/ws', '/sse', '/raw', '.js', '%00').map((suffix) => (t: Template) => ({ ...t, path: `${t.path}${suffix}` })),
);

const headerMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(headerName, printable).map(([name, value]) => (t: Template) => ({ ...t, headers: [...t.headers, [name, value] as [string, string]] })),
  fc
    .constantFrom(
      'application/json; charset=utf-16',
      'application/json; charset=latin1',
      'text/plain',
      'multipart/form-data; boundary=x',
      'multipart/form-data',
      'application/x-www-form-urlencoded',
      '*/*',
      ';;;',
      'application/json;;charset="',
    )
    .map((type) => (t: Template) => ({ ...t, headers: [...t.headers.filter(([n]) => n.toLowerCase() !== 'content-type'), ['Content-Type', type] as [string, string]] })),
  fc.oneof(printable, fc.constantFrom('::ffff:1.2.3.4', '1.1.1.1, 2.2.2.2', 'unknown', '[::1]:80')).map((v) => (t: Template) => ({ ...t, headers: [...t.headers, ['X-Forwarded-For', v] as [string, string]] })),
  fc.oneof(printable, fc.constantFrom('https://evil.example', 'null', 'https://localhost')).map((v) => (t: Template) => ({ ...t, headers: [...t.headers, ['Origin', v] as [string, string]] })),
  fc.constantFrom('Accept', 'Accept-Encoding', 'Cookie', 'Range', 'If-None-Match', 'Expect', 'Transfer-Encoding').chain((name) =>
    printable.map((v) => (t: Template) => ({ ...t, headers: [...t.headers, [name, name === 'Expect' ? '100-continue' : v] as [string, string]] })),
  ),
);

const methodMutation: fc.Arbitrary<Mutation> = fc
  .oneof(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND', 'SEARCH'), fc.stringMatching(/^[A-Z]{1,10}$/))
  .map((method) => (t: Template) => ({ ...t, method }));

const bodyMutation: fc.Arbitrary<Mutation> = fc
  .oneof(
    fc.json(),
    printable,
    unicode,
    fc.nat(5000).map((n) => '['.repeat(n)),
    fc.constantFrom('{"title":"x","__proto__":{"a":1}}', '{"title":"x","constructor":{"prototype":{}}}', 'null', '1e999', '"\\ud800"', '{"title":"\u0000"}'),
    fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
  )
  .map((body) => (t: Template) => ({ ...t, body }));

const upgradeMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant((t: Template) => ({ ...t, upgrade: !t.upgrade })),
  fc.constantFrom('Sec-WebSocket-Key', 'Sec-WebSocket-Version', 'Connection', 'Upgrade').map((drop) => (t: Template) => ({
    ...t,
    upgrade: true,
    headers: [...t.headers, ['X-Drop', drop] as [string, string]],
  })),
  fc.tuple(fc.constantFrom('Upgrade', 'Sec-WebSocket-Version', 'Sec-WebSocket-Key', 'Sec-WebSocket-Protocol', 'Sec-WebSocket-Extensions'), printable).map(([name, value]) => (t: Template) => ({
    ...t,
    upgrade: true,
    headers: [...t.headers, ['X-Replace', `${name}:${value}`] as [string, string]],
  })),
);

const mutation = fc.oneof(
  { arbitrary: fc.constant((t: Template) => t), weight: 1 },
  { arbitrary: targetMutation, weight: 6 },
  { arbitrary: headerMutation, weight: 3 },
  { arbitrary: methodMutation, weight: 1 },
  { arbitrary: bodyMutation, weight: 2 },
  { arbitrary: upgradeMutation, weight: 2 },
);

/** A loopback source address of its own for each request (Linux routes all of 127.0.0.0/8 to lo). */
const source = fc.tuple(fc.integer({ min: 1, max: 254 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 254 })).map(([a, b, c]) => `127.${a}.${b}.${c}`);

function render(t: Template, host: string): string {
  let headers: [string, string][] = [['Host', host], ...t.headers];
  if (t.upgrade) headers.push(...WS_HEADERS);
  // Upgrade mutations: drop or replace one of the handshake headers.
  const drop = headers.find(([n]) => n === 'X-Drop')?.[1];
  if (drop) headers = headers.filter(([n]) => n !== drop && n !== 'X-Drop');
  const replace = headers.find(([n]) => n === 'X-Replace')?.[1];
  if (replace) {
    const i = replace.indexOf(':');
    const [name, value] = [replace.slice(0, i), replace.slice(i + 1)];
    headers = [...headers.filter(([n]) => n !== name && n !== 'X-Replace'), [name, value]];
  }
  if (!t.upgrade) headers.push(['Connection', 'close']);
  const body = Buffer.from(t.body, 'latin1');
  // Always framed by Content-Length (with a fuzzed Transfer-Encoding too, the parser refuses the pair).
  if (body.length > 0) headers.push(['Content-Length', String(body.length)]);
  const head = `${t.method} ${t.path} HTTP/1.1\r\n${headers.map(([n, v]) => `${n}: ${v}`).join('\r\n')}\r\n\r\n`;
  return head + t.body;
}

function routedRequests(text: string): number {
  return parseMetrics(text)
    .filter((s) => s.name === 'beep_http_request_duration_seconds_count' && s.labels.route !== 'unmatched')
    .reduce((sum, s) => sum + s.value, 0);
}

test(`${CASES} generated requests and upgrades to both listeners: never a 5xx, never an unexpected error, still healthy`, async () => {
  const { token: publish } = await createToken(daemon, 'publish');
  const { token: subscribe } = await createToken(daemon, 'subscribe');
  const { refreshToken } = await pair(daemon, 'fuzz target');
  const base = templates({ adminToken: daemon.adminToken, publish, subscribe, refresh: refreshToken });
  const seed = Date.now() % 2 ** 31;
  const cases = fc.sample(fc.record({ template: fc.constantFrom(...base), mutate: mutation, from: source }), { numRuns: CASES, seed });
  const routedBefore = routedRequests((await daemon.admin('GET', '/metrics')).text);
  const logStart = daemon.logs().length;

  const outcomes: { status: number; request: string }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const c = cases[next++];
      const t = c.mutate(c.template);
      const gateway = t.listener === 'gateway';
      const port = gateway ? daemon.runtime.gatewayPort : daemon.runtime.adminPort;
      const request = render(t, gateway ? `localhost:${port}` : `127.0.0.1:${port}`);
      const { status } = await rawHead(port, request, { secure: gateway ? { ca: daemon.caPem } : undefined, localAddress: c.from, timeoutMs: 15_000 });
      outcomes.push({ status, request: request.slice(0, 300) });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  if (daemon.proc.exitCode !== null) throw new Error(`the daemon exited (${daemon.proc.exitCode}); seed ${seed}; its log:\n${daemon.logs().slice(-4000)}`);

  const metrics = (await daemon.admin('GET', '/metrics')).text;
  const routed = routedRequests(metrics) - routedBefore;
  const byStatus = new Map<number, number>();
  for (const o of outcomes) byStatus.set(o.status, (byStatus.get(o.status) ?? 0) + 1);
  const upgraded = byStatus.get(101) ?? 0;
  process.stdout.write(
    `edge fuzz (seed ${seed}): ${outcomes.length} requests; ${routed} reached a route handler, ${upgraded} upgrades accepted; ` +
      `statuses ${JSON.stringify(Object.fromEntries([...byStatus].sort(([a], [b]) => a - b)))}\n`,
  );

  expect(daemon.proc.exitCode).toBeNull();
  expect((await daemon.admin('GET', '/health')).status).toBe(200);
  expect(outcomes.filter((o) => o.status >= 500).slice(0, 5)).toEqual([]);
  // Every request got an answer (an HTTP status), or was refused by the HTTP parser itself.
  expect(outcomes.filter((o) => o.status === -1).slice(0, 5)).toEqual([]);
  expect(daemon.logs().slice(logStart)).not.toMatch(/unexpected error|uncaught|unhandled/);
  expect(metrics).not.toMatch(/beep_http_server_errors_total\{[^}]*\} [1-9]/);
  expect(routed).toBeGreaterThan(CASES / 10);
}, 120_000);
