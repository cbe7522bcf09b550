import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon';
import { createToken, HAMMER_LIMITS, send } from '../helpers/compat';

// An attachment file through the daemon's life: `beep keys rotate` re-encrypts it under the new
// key (the old key retired, the file still readable), `beep backup` / `beep restore` carry it,
// and the sweep deletes it once it expires (its link then refused).

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

function fetchBytes(url: string, ca: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
      })
      .on('error', reject);
  });
}

/** The file's stored path, from its link. */
function stored(daemon: RunningDaemon, url: string): string {
  return path.join(daemon.dataDir, 'attachments', /\/file\/([A-Za-z0-9_-]+)\?/.exec(url)![1]);
}

/** The data key id an attachment file's header names. */
function headerKey(file: string): string {
  const head = fs.readFileSync(file).subarray(0, 64);
  return head.subarray(9, 9 + head[8]).toString('ascii');
}

/** A fresh link to the notification's attachment (an ntfy poll signs a new one). */
async function freshLink(daemon: RunningDaemon, token: string, topic: string, id: string): Promise<string> {
  const res = await send('GET', `${daemon.gatewayUrl}/${topic}/json?poll=1&since=all`, undefined, bearer(token), daemon.caPem);
  const message = res.text.trim().split('\n').map((l) => JSON.parse(l)).find((m) => m.id === id);
  return message.attachment.url;
}

test('rotation re-encrypts the file under the new key; backup and restore carry it', async () => {
  let daemon = await startDaemon({ config: { rateLimits: HAMMER_LIMITS } });
  try {
    const pub = (await createToken(daemon, 'publish')).token;
    const sub = (await createToken(daemon, 'subscribe', ['kept'])).token;
    const bytes = crypto.randomBytes(200_000);
    const res = await send('PUT', `${daemon.gatewayUrl}/kept`, bytes, { ...bearer(pub), Filename: 'data.bin' }, daemon.caPem);
    expect(res.status).toBe(200);
    const file = stored(daemon, res.body.attachment.url);
    const before = headerKey(file);

    const cli = await daemon.cli(['keys', 'rotate']);
    expect(cli.status).toBe(0);
    const next = /rotating to data key (\S+)/.exec(cli.stdout)![1];
    expect(next).not.toBe(before);
    expect(headerKey(file)).toBe(next);
    expect(fs.readdirSync(path.dirname(file))).toEqual([path.basename(file)]);
    const afterRotation = await fetchBytes(await freshLink(daemon, sub, 'kept', res.body.id), daemon.caPem);
    expect(afterRotation.status).toBe(200);
    expect(afterRotation.body.equals(bytes)).toBe(true);

    const backupFile = path.join(tempDir('beep-backup-'), 'b.backup');
    const backup = await daemon.cli(['backup', backupFile]);
    expect(backup.status).toBe(0);
    expect(backup.stdout).toContain('with 1 attachment file');
    // The backup holds the file only encrypted.
    expect(fs.readFileSync(backupFile).includes(bytes.subarray(1000, 1032))).toBe(false);

    expect(await daemon.stop()).toBe(0);
    fs.rmSync(path.dirname(file), { recursive: true });
    const restore = await daemon.cli(['restore', backupFile]);
    expect(restore.status).toBe(0);
    expect(restore.stdout).toContain('restored 1 attachment file');
    daemon = await daemon.restart();
    const afterRestore = await fetchBytes(await freshLink(daemon, sub, 'kept', res.body.id), daemon.caPem);
    expect(afterRestore.status).toBe(200);
    expect(afterRestore.body.equals(bytes)).toBe(true);
  } finally {
    await daemon.stop();
  }
});

test('an expired file is deleted by the sweep and its link refused', async () => {
  const daemon = await startDaemon({ config: { rateLimits: HAMMER_LIMITS, attachments: { expirySec: 2, sweepSec: 1 } } });
  try {
    const pub = (await createToken(daemon, 'publish')).token;
    const res = await send('PUT', `${daemon.gatewayUrl}/brief`, Buffer.from('short-lived'), { ...bearer(pub), Filename: 'a.txt' }, daemon.caPem);
    expect(res.status).toBe(200);
    const file = stored(daemon, res.body.attachment.url);
    expect(fs.existsSync(file)).toBe(true);
    const deadline = Date.now() + 20_000;
    while (fs.existsSync(file) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(fs.existsSync(file)).toBe(false);
    const got = await fetchBytes(res.body.attachment.url, daemon.caPem);
    expect([403, 410]).toContain(got.status);
  } finally {
    await daemon.stop();
  }
});

test('with attachments off, files and Attach: are refused (never dropped) and there is no /file route', async () => {
  const daemon = await startDaemon({ config: { rateLimits: HAMMER_LIMITS, attachments: { enabled: false } } });
  try {
    const pub = (await createToken(daemon, 'publish')).token;
    const file = await send('PUT', `${daemon.adminUrl}/off`, Buffer.from('x'), { ...bearer(pub), Filename: 'a.txt' });
    expect([file.status, file.body.beep_code]).toEqual([400, 'unsupported_parameter']);
    const link = await send('POST', `${daemon.adminUrl}/off`, 'x', { ...bearer(pub), Attach: 'https://example.com/a.png' });
    expect([link.status, link.body.beep_code]).toEqual([400, 'unsupported_parameter']);
    const json = await send('POST', `${daemon.adminUrl}/`, JSON.stringify({ topic: 'off', attach: 'https://example.com/a.png' }), bearer(pub));
    expect([json.status, json.body.beep_code]).toEqual([400, 'unsupported_parameter']);
    // A long body is the message again, held to its limit.
    const long = await send('POST', `${daemon.adminUrl}/off`, 'x'.repeat(4097), bearer(pub));
    expect([long.status, long.body.beep_code]).toEqual([400, 'body_too_long']);
    expect((await send('GET', `${daemon.adminUrl}/file/${'A'.repeat(22)}?exp=1&sig=x`)).status).toBe(404);
    expect(fs.existsSync(path.join(daemon.dataDir, 'attachments'))).toBe(false);
  } finally {
    await daemon.stop();
  }
});
