import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startDaemon, type RunningDaemon } from '../helpers/daemon';
import { Phone } from '../helpers/phone';

// One run that touches every secret Beep handles — admin token, pairing code, access and
// refresh tokens, notification text, the dashboard password, the master, signing and TLS keys —
// then searches everything the daemon logged (at debug level, the most verbose) for each.

let daemon: RunningDaemon;

afterAll(async () => {
  await daemon?.stop();
});

test('no secret used in the run appears in the daemon\'s log output', async () => {
  daemon = await startDaemon({ env: { BEEP_LOG_LEVEL: 'debug' } });
  const secrets: Record<string, string> = { adminToken: daemon.adminToken };
  const code = await daemon.admin('POST', '/api/v1/pairings');
  secrets.pairingCode = code.body.code;
  const paired = await daemon.gateway<any>('POST', '/api/v1/pair', { code: code.body.code, name: 'log probe', platform: 'test' });
  secrets.accessToken = paired.body.accessToken;
  secrets.refreshToken = paired.body.refreshToken;
  const refreshed = await daemon.gateway<any>('POST', '/api/v1/token', { refreshToken: paired.body.refreshToken });
  secrets.refreshToken2 = refreshed.body.refreshToken;
  await daemon.gateway('POST', '/api/v1/token', { refreshToken: paired.body.refreshToken }); // reuse: logged and audited
  const phone = new Phone(paired.body);
  await expect(phone.connect(daemon, 'not.a.token')).rejects.toBeDefined();
  const marker = crypto.randomBytes(6).toString('hex');
  secrets.title = `secret-title-${marker}`;
  secrets.body = `secret-body-${marker}`;
  await daemon.admin('POST', '/api/v1/notifications', { title: secrets.title, body: secrets.body });
  await daemon.admin('POST', '/api/v1/notifications', { title: secrets.title, bogus: true }); // a refusal is logged too
  secrets.password = `dashboard-${marker}`;
  expect((await daemon.cli(['admin', 'password', 'set'], { input: `${secrets.password}\n` })).status).toBe(0);
  expect((await daemon.cli(['keys', 'rotate'])).status).toBe(0);
  expect((await daemon.cli(['cert', 'renew'])).status).toBe(0);
  await daemon.admin('GET', '/api/v1/devices', undefined, { authorization: `Bearer wrong-${marker}` });

  const keys = path.join(daemon.dataDir, 'keys');
  const master = fs.readFileSync(path.join(keys, 'master.key'));
  secrets.masterHex = master.toString('hex');
  secrets.masterB64 = master.toString('base64');
  const pemBody = (file: string) => fs.readFileSync(file, 'utf8').split('\n')[1]; // first line of key material
  secrets.signingKey = pemBody(path.join(keys, fs.readdirSync(keys).find((f) => f.startsWith('signing-'))!));
  secrets.caKey = pemBody(path.join(daemon.dataDir, 'certs', 'ca.key'));
  secrets.serverKey = pemBody(path.join(daemon.dataDir, 'certs', 'server.key'));

  await daemon.stop();
  const logs = daemon.logs();
  expect(logs).toMatch(/refresh token reused/); // the events were logged...
  expect(logs.length).toBeGreaterThan(200);
  for (const [name, value] of Object.entries(secrets)) {
    expect({ name, leaked: logs.includes(value) }).toEqual({ name, leaked: false }); // ...without the secrets
  }
});
