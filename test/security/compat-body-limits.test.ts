import net from 'node:net';
import { startDaemon, type RunningDaemon } from '../helpers/daemon';
import { createToken, send } from '../helpers/compat';

// [harden] item 13, the compat part: the ntfy and Gotify routes read up to 64 KiB of body
// before authentication, where Beep's own routes cap at 4 KiB. Now a compat body is read only
// once the token (or the Gotify Basic login) has been checked, and only as far as the route
// needs: one notification for a publish, 4 KiB for other JSON, nothing for a subscription.

let daemon: RunningDaemon;
let pub: { id: number; token: string };

beforeAll(async () => {
  daemon = await startDaemon();
  pub = await createToken(daemon, 'publish', undefined, 'scripts');
});

afterAll(async () => {
  await daemon?.stop();
});

/**
 * Sends the request line and headers announcing `declared` bytes of body, then only the first
 * KiB of it, and waits for an answer: a route that reads the body first never answers.
 */
function answerBeforeBody(method: string, path: string, headers: Record<string, string>, declared = 60_000, waitMs = 3_000): Promise<number | 'no answer'> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port: daemon.runtime.adminPort });
    const lines = Object.entries({ Host: `127.0.0.1:${daemon.runtime.adminPort}`, 'Content-Length': String(declared), ...headers }).map(([k, v]) => `${k}: ${v}`);
    socket.write(`${method} ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n${'x'.repeat(1024)}`);
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('no answer');
    }, waitMs);
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (!text.includes('\r\n')) return;
      clearTimeout(timer);
      socket.destroy();
      resolve(Number(text.split(' ')[1]));
    });
    socket.on('error', () => undefined);
  });
}

test('without a valid token, no compat route waits for (or reads) the body: 401 at once', async () => {
  const results = {
    ntfyTopic: await answerBeforeBody('POST', '/alerts', {}),
    ntfyJson: await answerBeforeBody('POST', '/', { 'Content-Type': 'application/json' }),
    ntfyWrongToken: await answerBeforeBody('PUT', '/alerts', { Authorization: 'Bearer bk_not_a_token' }),
    gotifyMessage: await answerBeforeBody('POST', '/message', { 'Content-Type': 'application/json' }),
    gotifyClient: await answerBeforeBody('POST', '/client', { 'Content-Type': 'application/json' }),
  };
  expect(results).toEqual({ ntfyTopic: 401, ntfyJson: 401, ntfyWrongToken: 401, gotifyMessage: 401, gotifyClient: 401 });
});

test('with a valid token, a JSON publish body is capped at one notification (32 KiB) and other JSON at 4 KiB', async () => {
  const auth = { authorization: `Bearer ${pub.token}` };
  // A topic publish's body over a message is a file, as ntfy makes it (streamed to disk, capped by
  // attachments.maxFileBytes: test/integration/compat/attachments.test.ts), never read into memory.
  const over = await send('POST', `${daemon.adminUrl}/alerts`, 'x'.repeat(4097), auth);
  expect([over.status, over.body.attachment?.size]).toEqual([200, 4097]);
  const big = await send('POST', `${daemon.adminUrl}/alerts`, 'x'.repeat(40_000), auth);
  expect([big.status, big.body.attachment?.size]).toEqual([200, 40_000]);
  const json = await send('POST', `${daemon.adminUrl}/`, JSON.stringify({ topic: 'alerts', message: 'x'.repeat(40_000) }), { ...auth, 'content-type': 'application/json' });
  expect([json.status, json.body.beep_code]).toEqual([413, 'payload_too_large']);
  const gotify = await send('POST', `${daemon.adminUrl}/message`, JSON.stringify({ message: 'x'.repeat(40_000) }), { 'X-Gotify-Key': pub.token, 'content-type': 'application/json' });
  expect([gotify.status, gotify.body.beep_code]).toEqual([413, 'payload_too_large']);
  // A Gotify client's name is tiny: 8 KiB of JSON is refused before it is parsed.
  expect((await daemon.cli(['admin', 'password', 'set'], { input: 'compat body password\n' })).status).toBe(0);
  const basic = { authorization: `Basic ${Buffer.from('admin:compat body password').toString('base64')}`, 'content-type': 'application/json' };
  const client = await send('POST', `${daemon.adminUrl}/client`, JSON.stringify({ name: 'x'.repeat(8_000) }), basic);
  expect([client.status, client.body.beep_code]).toEqual([413, 'payload_too_large']);
  expect((await send('POST', `${daemon.adminUrl}/client`, JSON.stringify({ name: 'Pixel' }), basic)).status).toBe(200);
});
