import fs from 'node:fs';
import path from 'node:path';
import { tlsHandshake } from '../helpers/attack';
import { startDaemon, type RunningDaemon } from '../helpers/daemon';

// Attacks on the transport: an old TLS client, and a certificate renewal that must reach the
// running gateway without a restart (and without touching the pinned CA).

let daemon: RunningDaemon;

beforeAll(async () => {
  daemon = await startDaemon();
});

afterAll(async () => {
  await daemon?.stop();
});

test('a TLS 1.2 client is refused while 1.2 is off (the default); TLS 1.3 is served', async () => {
  await expect(tlsHandshake(daemon.runtime.gatewayPort, daemon.caPem, { maxVersion: 'TLSv1.2' })).rejects.toThrow(/protocol|version|alert/i);
  const ok = await tlsHandshake(daemon.runtime.gatewayPort, daemon.caPem);
  expect(ok.version).toBe('TLSv1.3');
});

test('`beep cert renew` swaps the served certificate live; `beep cert status` shows it; the CA pin stays', async () => {
  const before = await tlsHandshake(daemon.runtime.gatewayPort, daemon.caPem);
  const status = await daemon.cli(['cert', 'status', '--json']);
  expect(status.status).toBe(0);
  const shown = JSON.parse(status.stdout);
  expect(shown.serverFingerprint).toBe(before.fingerprint);
  expect(shown.caFingerprint).toBe(daemon.runtime.caFingerprint);
  expect(shown.daysLeft).toBeGreaterThan(30);
  expect(shown.subjectAltNames).toEqual(expect.arrayContaining(['DNS:localhost', 'IP:127.0.0.1', 'IP:::1']));

  const renewed = await daemon.cli(['cert', 'renew']);
  expect(renewed.status).toBe(0);
  expect(renewed.stdout).toMatch(/no restart/);
  const after = await tlsHandshake(daemon.runtime.gatewayPort, daemon.caPem);
  expect(after.fingerprint).not.toBe(before.fingerprint);
  expect(renewed.stdout).toContain(after.fingerprint);
  // Same process, same CA: phones that pinned it keep working.
  expect(daemon.proc.exitCode).toBeNull();
  expect((await daemon.gateway('GET', '/ca.crt')).text).toBe(daemon.caPem);
});

test('key and certificate files are 0600 in a 0700 folder, renewed ones too', () => {
  const dir = path.join(daemon.dataDir, 'certs');
  expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
  for (const f of ['ca.key', 'ca.crt', 'server.key', 'server.crt']) {
    expect({ f, mode: fs.statSync(path.join(dir, f)).mode & 0o777 }).toEqual({ f, mode: 0o600 });
  }
});

test('with tls.minVersion TLSv1.2 configured, a TLS 1.2 client is served', async () => {
  await daemon.stop();
  fs.writeFileSync(path.join(daemon.dataDir, 'config.json'), JSON.stringify({ tls: { minVersion: 'TLSv1.2' } }));
  daemon = await daemon.restart();
  const old = await tlsHandshake(daemon.runtime.gatewayPort, daemon.caPem, { maxVersion: 'TLSv1.2' });
  expect(old.version).toBe('TLSv1.2');
});

test('gateway.publicHost is a name the certificate covers, and the pairing link carries it', async () => {
  const other = await startDaemon({ config: { gateway: { publicHost: 'beep-box.lan' } } });
  try {
    const status = JSON.parse((await other.cli(['cert', 'status', '--json'])).stdout);
    expect(status.subjectAltNames).toContain('DNS:beep-box.lan');
    const pairing = await other.admin('POST', '/api/v1/pairings');
    expect(pairing.body.url).toMatch(new RegExp(`^https://beep-box\\.lan:${other.runtime.gatewayPort}/#code=`));
    // A name outside the CA's constraints would be left out of the certificate: say so in the status.
    expect(status.leftOutNames ?? []).not.toContain('DNS:beep-box.lan');
  } finally {
    await other.stop();
  }
});
