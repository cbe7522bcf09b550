import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { startDaemon, type RunningDaemon } from '../../helpers/daemon';
import { Phone } from '../../helpers/phone';
import { createToken, HAMMER_LIMITS, send } from '../../helpers/compat';
import { RealClients } from '../../helpers/real-clients';

// ntfy attachments (docs/publish.md, "Attachments") against the real daemon: a file sent with
// PUT + Filename reaches a paired phone and an ntfy subscriber as a signed link whose bytes are
// the file's; on disk the file is encrypted; a cut file is refused, never served short; quotas
// answer ntfy's 41301; a tampered or expired link is refused; an `Attach:` URL is never fetched.

let daemon: RunningDaemon;
let phone: Phone;
let pub: string;
let sub: string;

beforeAll(async () => {
  daemon = await startDaemon({ config: { rateLimits: HAMMER_LIMITS } });
  pub = (await createToken(daemon, 'publish', undefined, 'scripts')).token;
  sub = (await createToken(daemon, 'subscribe', ['files', 'links'])).token;
  phone = await Phone.paired(daemon);
  await phone.connect(daemon);
});

afterAll(async () => {
  phone?.disconnect();
  await daemon?.stop();
});

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

/** GET with the body kept as bytes (the gateway's CA trusted). */
function fetchBytes(url: string, ca: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const get = url.startsWith('https:') ? https.get : http.get;
    const req = get(url, { ca }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      const done = () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts), complete: res.complete });
      res.on('end', done);
      res.on('error', done);
      res.on('aborted', done);
    });
    req.on('error', reject);
  });
}

/** A PNG-looking file of `size` bytes (the type is sniffed from its first bytes). */
function png(size: number): Buffer {
  const body = crypto.randomBytes(size);
  Buffer.from('89504e470d0a1a0a', 'hex').copy(body);
  return body;
}

function fileIdOf(url: string): string {
  return /\/file\/([A-Za-z0-9_-]+)\?/.exec(url)![1];
}

describe('a file sent as the body (PUT + Filename)', () => {
  const bytes = png(300_000);
  let answer: any;

  beforeAll(async () => {
    const res = await send('PUT', `${daemon.gatewayUrl}/files`, bytes, { ...bearer(pub), Filename: 'flower.png' }, daemon.caPem);
    expect(res.status).toBe(200);
    answer = res.body;
  });

  test('the answer has ntfy\'s attachment object and message', () => {
    expect(answer).toMatchObject({
      event: 'message',
      topic: 'files',
      message: 'You received a file: flower.png',
      attachment: { name: 'flower.png', type: 'image/png', size: bytes.length, expires: expect.any(Number), url: expect.stringMatching(/^https:\/\/localhost:\d+\/file\/[A-Za-z0-9_-]{22}\?exp=\d+&sig=[A-Za-z0-9_-]+$/) },
    });
    expect(answer.attachment.expires - answer.time).toBeGreaterThan(3600);
  });

  test('the phone gets the attachment and its link gives back the same bytes', async () => {
    await phone.waitFor(() => phone.unique.has(answer.id), 15_000, 'the notification');
    const wire = phone.unique.get(answer.id)!;
    expect(wire.attachment).toMatchObject({ name: 'flower.png', type: 'image/png', size: bytes.length });
    expect(wire.attachment!.url).toMatch(/^\/file\//);
    const got = await fetchBytes(`${daemon.gatewayUrl}${wire.attachment!.url}`, daemon.caPem);
    expect(got.status).toBe(200);
    expect(got.headers['content-type']).toBe('image/png');
    expect(got.headers['content-security-policy']).toContain('sandbox');
    expect(got.body.equals(bytes)).toBe(true);
  });

  test('an ntfy subscriber polls it with an absolute link that works', async () => {
    const res = await send('GET', `${daemon.gatewayUrl}/files/json?poll=1&since=all`, undefined, bearer(sub), daemon.caPem);
    const polled = res.text.trim().split('\n').map((l) => JSON.parse(l)).find((m) => m.id === answer.id);
    expect(polled.attachment).toMatchObject({ name: 'flower.png', type: 'image/png', size: bytes.length });
    const got = await fetchBytes(polled.attachment.url, daemon.caPem);
    expect(got.body.equals(bytes)).toBe(true);
  });

  test('on disk the file is encrypted: none of its bytes appear', () => {
    const file = path.join(daemon.dataDir, 'attachments', fileIdOf(answer.attachment.url));
    const stored = fs.readFileSync(file);
    expect(stored.length).toBeGreaterThan(bytes.length);
    for (const at of [0, 8, 100_000, 299_900]) expect(stored.includes(bytes.subarray(at, at + 32))).toBe(false);
    expect(stored.subarray(0, 8).toString()).toBe('BEEPATT1');
  });

  test('a non-image is served as a sandboxed download', async () => {
    const text = Buffer.from('<html><script>alert(1)</script></html>');
    const res = await send('POST', `${daemon.gatewayUrl}/files?filename=page.html`, text, bearer(pub), daemon.caPem);
    expect(res.body.attachment).toMatchObject({ name: 'page.html', type: 'application/octet-stream', size: text.length });
    const got = await fetchBytes(res.body.attachment.url, daemon.caPem);
    expect(got.headers['content-type']).toBe('application/octet-stream');
    expect(got.headers['content-disposition']).toMatch(/^attachment; filename="page.html"/);
    expect(got.body.equals(text)).toBe(true);
  });
});

describe('a body too long for a message, or not UTF-8, is a file (as ntfy)', () => {
  test('a binary body without Filename becomes "attachment.png"', async () => {
    const bytes = png(20_000);
    const res = await send('POST', `${daemon.gatewayUrl}/files`, bytes, bearer(pub), daemon.caPem);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ message: 'You received a file: attachment.png', attachment: { name: 'attachment.png', type: 'image/png', size: bytes.length } });
    expect((await fetchBytes(res.body.attachment.url, daemon.caPem)).body.equals(bytes)).toBe(true);
  });

  test('a UTF-8 body over 4096 bytes becomes "attachment.bin"; one of 4096 stays the message', async () => {
    const long = Buffer.from('x'.repeat(5000));
    const res = await send('POST', `${daemon.gatewayUrl}/files`, long, { ...bearer(pub), 'X-Message': 'the log' }, daemon.caPem);
    expect(res.body).toMatchObject({ message: 'the log', attachment: { name: 'attachment.bin', size: 5000 } });
    expect((await fetchBytes(res.body.attachment.url, daemon.caPem)).body.equals(long)).toBe(true);
    const fits = await send('POST', `${daemon.gatewayUrl}/files`, 'y'.repeat(4096), bearer(pub), daemon.caPem);
    expect(fits.body.message).toBe('y'.repeat(4096));
    expect(fits.body.attachment).toBeUndefined();
  });
});

describe('the real npm clients', () => {
  test('the ntfy package\'s fileAttachment and fileURL, and @cityssm/ntfy-publish\'s fileAttachmentURL', async () => {
    const clients = RealClients.for(daemon);
    const bytes = png(40_000);
    const file = path.join(daemon.dataDir, 'camera.png');
    fs.writeFileSync(file, bytes);
    const gw = daemon.gatewayUrl;
    const sent = await clients.ntfy({ server: gw, topic: 'files', fileAttachment: file, title: 'Camera', authorization: { username: 'me', password: pub } });
    expect(sent.ok).toBe(true);
    const answer = (sent as { value: any }).value;
    expect(answer.attachment).toMatchObject({ name: 'attachment.png', type: 'image/png', size: bytes.length });
    await phone.waitFor(() => phone.unique.has(answer.id), 15_000, 'the package\'s file');
    const wire = phone.unique.get(answer.id)!;
    expect(wire.title).toBe('Camera');
    expect((await fetchBytes(`${gw}${wire.attachment!.url}`, daemon.caPem)).body.equals(bytes)).toBe(true);

    const linked = await clients.ntfy({ server: gw, topic: 'links', message: 'see', fileURL: { url: 'https://example.com/a/b.apk', filename: 'app.apk' }, authorization: { username: 'me', password: pub } });
    expect((linked as { value: any }).value.attachment).toEqual({ name: 'app.apk', url: 'https://example.com/a/b.apk' });

    const auth = Buffer.from(`Bearer ${pub}`).toString('base64url');
    const cityssm = await clients.ntfyPublish({ server: `${gw}/`, topic: `files?auth=${auth}`, fileAttachmentURL: file, fileName: 'cam.png', title: 'From cityssm' } as never);
    expect(cityssm.ok && (cityssm as { value: boolean }).value).toBe(true);
    const polled = await send('GET', `${gw}/files/json?poll=1&since=all`, undefined, bearer(sub), daemon.caPem);
    const last = polled.text.trim().split('\n').map((l) => JSON.parse(l)).find((m) => m.title === 'From cityssm');
    expect(last.attachment).toMatchObject({ name: 'cam.png', type: 'image/png', size: bytes.length });
    expect((await fetchBytes(last.attachment.url, daemon.caPem)).body.equals(bytes)).toBe(true);
  });
});

describe('beep send --file', () => {
  test('the file is streamed to the daemon and reaches the phone with the same bytes', async () => {
    const bytes = png(150_000);
    const file = path.join(daemon.dataDir, 'report é.png');
    fs.writeFileSync(file, bytes);
    const cli = await daemon.cli(['send', 'Nightly report', '--file', file, '-b', 'see attached', '--json']);
    expect(cli.status).toBe(0);
    const { id } = JSON.parse(cli.stdout);
    await phone.waitFor(() => phone.unique.has(id), 15_000, 'the notification');
    const wire = phone.unique.get(id)!;
    expect(wire).toMatchObject({ title: 'Nightly report', body: 'see attached', source: 'cli' });
    expect(wire.attachment).toMatchObject({ name: 'report é.png', type: 'image/png', size: bytes.length });
    const got = await fetchBytes(`${daemon.gatewayUrl}${wire.attachment!.url}`, daemon.caPem);
    expect(got.body.equals(bytes)).toBe(true);
    expect(got.headers['content-disposition']).toContain("filename*=UTF-8''report%20%C3%A9.png");
    // The admin history carries it too, with a link that works on the admin listener.
    const history = (await daemon.admin('GET', '/api/v1/notifications?limit=20')).body as { id: string; attachment?: { url: string } }[];
    const listed = history.find((n) => n.id === id)!;
    expect((await fetchBytes(`${daemon.adminUrl}${listed.attachment!.url}`, '')).body.equals(bytes)).toBe(true);
  });

  test('a missing file is refused by the CLI before anything is sent', async () => {
    const cli = await daemon.cli(['send', 'x', '--file', path.join(daemon.dataDir, 'nope.bin')]);
    expect(cli.status).toBe(2);
    expect(cli.stderr).toContain('no file at');
  });
});

describe('a damaged file is refused, never served short', () => {
  async function stored(size: number): Promise<{ url: string; file: string }> {
    const res = await send('PUT', `${daemon.gatewayUrl}/files`, png(size), { ...bearer(pub), Filename: 'cut.png' }, daemon.caPem);
    expect(res.status).toBe(200);
    return { url: res.body.attachment.url, file: path.join(daemon.dataDir, 'attachments', fileIdOf(res.body.attachment.url)) };
  }

  test('cut at a chunk boundary (its last chunk dropped)', async () => {
    const { url, file } = await stored(3 * 65_536 + 1000);
    fs.truncateSync(file, fs.statSync(file).size - (1000 + 16));
    const got = await fetchBytes(url, daemon.caPem);
    expect(got.status).toBe(500);
    expect(JSON.parse(got.body.toString()).error.code).toBe('attachment_damaged');
  });

  test('cut by one byte', async () => {
    const { url, file } = await stored(100_000);
    fs.truncateSync(file, fs.statSync(file).size - 1);
    const got = await fetchBytes(url, daemon.caPem);
    expect(got.status).toBe(500);
    expect(got.body.length).toBeLessThan(200);
  });

  test('a chunk altered in place: the answer is cut before the bad chunk, never complete', async () => {
    const { url, file } = await stored(3 * 65_536);
    // Every bit of one byte flipped: writing a constant left the file unchanged whenever the byte
    // already had that value (one run in 256 served the whole file and failed here).
    const at = 40 + 2 * (65_536 + 16) + 10;
    const fd = fs.openSync(file, 'r+');
    const byte = Buffer.alloc(1);
    fs.readSync(fd, byte, 0, 1, at);
    fs.writeSync(fd, Buffer.from([byte[0] ^ 0xff]), 0, 1, at);
    fs.closeSync(fd);
    const got = await fetchBytes(url, daemon.caPem);
    expect(got.complete && got.status === 200 && got.body.length === 3 * 65_536).toBe(false);
    expect(got.body.length).toBeLessThanOrEqual(2 * 65_536);
  });
});

describe('signed links', () => {
  let url: string;
  beforeAll(async () => {
    const res = await send('PUT', `${daemon.gatewayUrl}/files`, png(1000), { ...bearer(pub), Filename: 'a.png' }, daemon.caPem);
    url = res.body.attachment.url;
    expect((await fetchBytes(url, daemon.caPem)).status).toBe(200);
  });

  test('a tampered signature, expiry or file id is refused with 403', async () => {
    const u = new URL(url);
    const sig = u.searchParams.get('sig')!;
    const exp = Number(u.searchParams.get('exp'));
    const variants = [
      url.replace(`sig=${sig}`, `sig=${sig.slice(0, -2)}${sig.endsWith('AA') ? 'BB' : 'AA'}`),
      url.replace(`exp=${exp}`, `exp=${exp + 3600}`),
      url.replace(/sig=[^&]+/, ''),
      url.replace(/\/file\/[A-Za-z0-9_-]{22}/, `/file/${crypto.randomBytes(16).toString('base64url')}`),
    ];
    for (const v of variants) {
      const got = await fetchBytes(v, daemon.caPem);
      expect(got.status).toBe(403);
      expect(JSON.parse(got.body.toString()).error.code).toBe('attachment_link_invalid');
    }
  });

  test('a paired phone asks for a fresh link with its access token; nothing else gets one', async () => {
    const file = /\/file\/([A-Za-z0-9_-]+)\?/.exec(url)![1];
    const ask = (id: string, headers: Record<string, string>) => send('GET', `${daemon.gatewayUrl}/api/v1/attachments/${id}/link`, undefined, headers, daemon.caPem);
    const fresh = await ask(file, bearer(phone.credentials.accessToken));
    expect(fresh.status).toBe(200);
    expect(fresh.body.url).toMatch(new RegExp(`^/file/${file}\\?exp=\\d+&sig=`));
    expect((await fetchBytes(`${daemon.gatewayUrl}${fresh.body.url}`, daemon.caPem)).status).toBe(200);
    expect((await ask(file, {})).status).toBe(401);
    expect((await ask(file, bearer(pub))).status).toBe(401);
    const unknown = await ask(crypto.randomBytes(16).toString('base64url'), bearer(phone.credentials.accessToken));
    expect([unknown.status, unknown.body.error.code]).toEqual([410, 'attachment_expired']);
  });

  test('the link works on the admin listener too (same path)', async () => {
    const u = new URL(url);
    const got = await fetchBytes(`${daemon.adminUrl}${u.pathname}${u.search}`, daemon.caPem);
    expect(got.status).toBe(200);
  });
});

describe('an Attach: URL is a link, never fetched', () => {
  test('the phone and the answer carry it; the server it names sees no request', async () => {
    const requests: string[] = [];
    const server = http.createServer((req, res) => {
      requests.push(req.url ?? '');
      res.end('no');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const target = `http://127.0.0.1:${(server.address() as AddressInfo).port}/photos/cat%20pic.jpg`;
      const res = await send('POST', `${daemon.gatewayUrl}/links`, 'Look at this', { ...bearer(pub), Attach: target }, daemon.caPem);
      expect(res.status).toBe(200);
      expect(res.body.attachment).toEqual({ name: 'cat pic.jpg', url: target });
      const json = await send('POST', `${daemon.gatewayUrl}/`, JSON.stringify({ topic: 'links', message: 'json', attach: target, filename: 'x.jpg' }), bearer(pub), daemon.caPem);
      expect(json.body.attachment).toEqual({ name: 'x.jpg', url: target });
      await phone.waitFor(() => phone.unique.has(res.body.id) && phone.unique.has(json.body.id), 15_000, 'both');
      expect(phone.unique.get(res.body.id)!.attachment).toEqual({ name: 'cat pic.jpg', url: target });
      await phone.sentinel(daemon);
      expect(requests).toEqual([]);
    } finally {
      server.close();
    }
  });

  test('a URL that is not http(s) is refused with ntfy\'s 40013', async () => {
    const res = await send('POST', `${daemon.gatewayUrl}/links`, 'x', { ...bearer(pub), Attach: 'file:///etc/passwd' }, daemon.caPem);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 40013, http: 400, beep_code: 'invalid_attachment' });
  });

  test('a file name on a GET publish (no body to be the file) is refused, not dropped', async () => {
    const res = await send('GET', `${daemon.gatewayUrl}/links/publish?message=x&filename=a.png`, undefined, bearer(pub), daemon.caPem);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 40000, beep_code: 'unsupported_parameter' });
  });
});

describe('quotas, link expiry and log redaction (small limits)', () => {
  let small: RunningDaemon;
  let token: string;
  beforeAll(async () => {
    small = await startDaemon({
      config: { rateLimits: HAMMER_LIMITS, attachments: { maxFileBytes: 100_000, maxTotalBytes: 250_000, linkSec: 1 } },
      env: { BEEP_LOG_LEVEL: 'debug' },
    });
    token = (await createToken(small, 'publish')).token;
  });
  afterAll(async () => {
    await small?.stop();
  });

  test('a file over the per-file limit is refused with ntfy\'s 41301 and nothing is stored', async () => {
    const res = await send('PUT', `${small.adminUrl}/big`, png(150_000), { ...bearer(token), Filename: 'big.png' });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ code: 41301, http: 413, beep_code: 'attachment_too_large' });
    const history = await small.admin('GET', '/api/v1/notifications?limit=10');
    expect(history.body.filter((n: { topic: string }) => n.topic === 'big')).toEqual([]);
    // Declared up front, it is refused before a byte is read.
    const declared = png(150_000);
    const early = await send('PUT', `${small.adminUrl}/big`, declared, { ...bearer(token), Filename: 'big.png', 'Content-Length': String(declared.length) });
    expect(early.status).toBe(413);
    expect(early.body).toMatchObject({ code: 41301, beep_code: 'attachment_too_large' });
    const dir = path.join(small.dataDir, 'attachments');
    expect(fs.existsSync(dir) ? fs.readdirSync(dir) : []).toEqual([]);
  });

  test('past the total quota the next file is refused with 41301', async () => {
    for (let i = 0; i < 2; i++) {
      const ok = await send('PUT', `${small.adminUrl}/fill`, png(90_000), { ...bearer(token), Filename: `f${i}.png` });
      expect(ok.status).toBe(200);
    }
    const res = await send('PUT', `${small.adminUrl}/fill`, png(90_000), { ...bearer(token), Filename: 'f3.png' });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ code: 41301, beep_code: 'attachment_too_large' });
    expect(res.body.error).toMatch(/total quota/);
  });

  test('an expired link is refused, and the signature never reaches the log', async () => {
    const res = await send('PUT', `${small.adminUrl}/fill`, Buffer.from('tiny'), { ...bearer(token), Filename: 't.txt' });
    const url: string = res.body.attachment?.url ?? '';
    expect(url).toContain('sig=');
    const sig = new URL(url).searchParams.get('sig')!;
    const deadline = Date.now() + 15_000;
    let status = 0;
    while (Date.now() < deadline && status !== 403) {
      status = (await fetchBytes(url, '')).status;
      if (status !== 403) await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).toBe(403);
    expect(small.logs()).toContain('sig=[redacted]');
    expect(small.logs()).not.toContain(sig);
  });
});

test('an upload cut off by its client leaves no file and gives its bytes back to the quota', async () => {
  const own = await startDaemon({ config: { rateLimits: HAMMER_LIMITS, attachments: { maxFileBytes: 100_000, maxTotalBytes: 100_000 } } });
  try {
    const token = (await createToken(own, 'publish')).token;
    const dir = path.join(own.dataDir, 'attachments');
    const port = new URL(own.adminUrl).port;
    await new Promise<void>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'PUT', path: '/fill', headers: { ...bearer(token), Filename: 'cut.png', 'Content-Length': '90000' } });
      req.on('error', () => resolve());
      req.write(png(50_000), () => setTimeout(() => (req.destroy(), resolve()), 200));
    });
    const listing = () => (fs.existsSync(dir) ? fs.readdirSync(dir) : []);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && listing().length > 0) await new Promise((r) => setTimeout(r, 100));
    expect(listing()).toEqual([]);
    // 60 000 fits in the 100 000 quota only if the cut upload's 50 000 were given back.
    const res = await send('PUT', `${own.adminUrl}/fill`, png(60_000), { ...bearer(token), Filename: 'after.png' });
    expect(res.status).toBe(200);
  } finally {
    await own.stop();
  }
});
