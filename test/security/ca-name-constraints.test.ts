import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { tlsHandshake } from '../helpers/attack';
import { startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon';

// Issue 11, item 9 and "connections": the CA phones install as a root must not be able to vouch
// for any site, and the server certificate must be cheap to handshake with (P-256, not RSA).
// The attacker here has read ca.key (a stolen backup, a careless copy): whatever they sign with it
// for a public name must be refused by a client that trusts the CA. Leaves are made with the
// openssl CLI, independent of Beep's own certificate code, and verified by OpenSSL and by Node.

const OPENSSL = 'openssl';
const BANK = 'www.bank.example';
const LAN_ADDRESS = '192.168.1.10'; // only ever written into a certificate: every connection goes to 127.0.0.1

let daemon: RunningDaemon;
let work: string;

function openssl(args: string[], cwd = work): string {
  return execFileSync(OPENSSL, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A P-256 leaf for `san` (e.g. 'DNS:www.bank.example'), signed with the CA key read from disk. */
function leafSignedWith(certDir: string, name: string, san: string): { certPem: string; keyPem: string; file: string } {
  const key = path.join(work, `${name}.key`);
  const csr = path.join(work, `${name}.csr`);
  const crt = path.join(work, `${name}.crt`);
  const ext = path.join(work, `${name}.ext`);
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
  openssl(['req', '-new', '-key', key, '-subj', `/CN=${name}`, '-out', csr]);
  fs.writeFileSync(ext, `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`);
  openssl([
    'x509', '-req', '-in', csr, '-CA', path.join(certDir, 'ca.crt'), '-CAkey', path.join(certDir, 'ca.key'),
    '-CAcreateserial', '-CAserial', path.join(work, 'ca.srl'), '-days', '30', '-sha256', '-extfile', ext, '-out', crt,
  ]);
  return { certPem: fs.readFileSync(crt, 'utf8'), keyPem: fs.readFileSync(key, 'utf8'), file: crt };
}

/** Serves `leaf` on loopback and connects to it trusting only `caPem`, checking the name `expect`. */
async function handshakeWith(leaf: { certPem: string; keyPem: string }, caPem: string, expectName: string): Promise<string> {
  const server = https.createServer({ cert: leaf.certPem, key: leaf.keyPem }, (_q, r) => r.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    return await new Promise<string>((resolve, reject) => {
      const socket = tls.connect({
        host: '127.0.0.1',
        port,
        ca: caPem,
        servername: /^[\d.]+$/.test(expectName) ? undefined : expectName,
        checkServerIdentity: (_host, cert) => tls.checkServerIdentity(expectName, cert),
      });
      socket.once('secureConnect', () => {
        socket.end();
        resolve('accepted');
      });
      socket.once('error', (error: Error) => reject(Object.assign(error, { text: String(error) })));
    });
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

beforeAll(async () => {
  work = tempDir('beep-nc-');
  daemon = await startDaemon();
});

afterAll(async () => {
  await daemon?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

describe('a new CA is name-constrained', () => {
  test('OpenSSL shows a critical nameConstraints extension with the LAN-only subtrees', () => {
    const text = openssl(['x509', '-in', path.join(daemon.dataDir, 'certs', 'ca.crt'), '-noout', '-text']);
    expect(text).toMatch(/X509v3 Name Constraints: critical/);
    for (const subtree of [
      'DNS:localhost', 'DNS:local', 'DNS:home.arpa', 'DNS:lan',
      'IP:127.0.0.0/255.0.0.0', 'IP:10.0.0.0/255.0.0.0', 'IP:172.16.0.0/255.240.0.0', 'IP:192.168.0.0/255.255.0.0',
      'IP:100.64.0.0/255.192.0.0', 'IP:169.254.0.0/255.255.0.0',
    ]) {
      expect(text).toContain(subtree);
    }
    expect(text).toMatch(/IP:0:0:0:0:0:0:0:1\/FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF/i);
    expect(text).toMatch(/IP:FC00:0:0:0:0:0:0:0\/FE00:0:0:0:0:0:0:0/i);
    expect(text).toMatch(/IP:FE80:0:0:0:0:0:0:0\/FFC0:0:0:0:0:0:0:0/i);
  });

  test('a certificate for a bank, signed with the stolen ca.key, fails `openssl verify`; a LAN one passes', () => {
    const certDir = path.join(daemon.dataDir, 'certs');
    const bank = leafSignedWith(certDir, 'bank', `DNS:${BANK}`);
    const refused = spawnSync(OPENSSL, ['verify', '-CAfile', path.join(certDir, 'ca.crt'), bank.file], { encoding: 'utf8' });
    expect(refused.status).not.toBe(0);
    expect(refused.stdout + refused.stderr).toMatch(/permitted subtree violation/i);
    const lan = leafSignedWith(certDir, 'lan', `DNS:printer.lan,DNS:box.local,IP:${LAN_ADDRESS}`);
    expect(openssl(['verify', '-CAfile', path.join(certDir, 'ca.crt'), lan.file])).toMatch(/: OK/);
  });

  test('Node refuses the bank certificate and accepts localhost and a 192.168 address', async () => {
    const certDir = path.join(daemon.dataDir, 'certs');
    const bank = leafSignedWith(certDir, 'bank-node', `DNS:${BANK}`);
    // OpenSSL's X509_V_ERR_PERMITTED_VIOLATION has no Node code of its own: Node 20 reports it as
    // UNSPECIFIED. The same code path accepts the two LAN leaves below, so the constraint is the cause.
    await expect(handshakeWith(bank, daemon.caPem, BANK)).rejects.toMatchObject({ code: expect.stringMatching(/PERMITTED|SUBTREE|UNSPECIFIED/) });
    const local = leafSignedWith(certDir, 'localhost', 'DNS:localhost');
    await expect(handshakeWith(local, daemon.caPem, 'localhost')).resolves.toBe('accepted');
    const lan = leafSignedWith(certDir, 'lan-node', `IP:${LAN_ADDRESS}`);
    await expect(handshakeWith(lan, daemon.caPem, LAN_ADDRESS)).resolves.toBe('accepted');
  });

  test('the served chain still verifies: localhost over TLS 1.3 with a P-256 server key', async () => {
    const cert = await new Promise<crypto.X509Certificate>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port: daemon.runtime.gatewayPort, ca: daemon.caPem, servername: 'localhost' }, () => {
        resolve(socket.getPeerX509Certificate()!);
        socket.end();
      });
      socket.once('error', reject);
    });
    expect(cert.publicKey.asymmetricKeyType).toBe('ec');
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const status = JSON.parse((await daemon.cli(['cert', 'status', '--json'])).stdout);
    expect(status.subjectAltNames).toEqual(expect.arrayContaining(['DNS:localhost', 'IP:127.0.0.1', 'IP:::1']));
    for (const name of status.subjectAltNames as string[]) {
      expect(name).toMatch(/^(DNS:(localhost|.+\.(local|lan|home\.arpa))|IP:(127\.|10\.|172\.(1[6-9]|2\d|3[01])\.|192\.168\.|100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.|169\.254\.|::1$|f[cd]|fe[89ab]))/);
    }
  });
});

describe('an existing, unconstrained RSA CA', () => {
  let old: RunningDaemon;
  let oldCaPem: string;

  beforeAll(async () => {
    const dataDir = tempDir('beep-oldca-');
    const certDir = path.join(dataDir, 'certs');
    fs.mkdirSync(certDir, { mode: 0o700 });
    // What an older Beep made: an RSA root without name constraints and an RSA server certificate.
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '3650',
      '-subj', '/CN=Beep local CA (old)', '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], certDir);
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'], certDir);
    fs.writeFileSync(path.join(certDir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n');
    openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '300',
      '-extfile', 'server.ext', '-out', 'server.crt'], certDir);
    for (const f of ['server.csr', 'server.ext', 'ca.srl']) fs.rmSync(path.join(certDir, f), { force: true });
    for (const f of fs.readdirSync(certDir)) fs.chmodSync(path.join(certDir, f), 0o600);
    oldCaPem = fs.readFileSync(path.join(certDir, 'ca.crt'), 'utf8');
    old = await startDaemon({ dataDir, config: { tls: { minVersion: 'TLSv1.2' } } });
  });

  afterAll(async () => {
    await old?.stop();
  });

  test('keeps working (same pin), and its RSA server certificate is replaced by a P-256 one at start', async () => {
    expect(old.caPem).toBe(oldCaPem);
    const fingerprint = `sha256/${crypto.createHash('sha256').update(new crypto.X509Certificate(oldCaPem).raw).digest('hex')}`;
    expect(old.runtime.caFingerprint).toBe(fingerprint);
    const served = fs.readFileSync(path.join(old.dataDir, 'certs', 'server.crt'), 'utf8');
    expect(new crypto.X509Certificate(served).publicKey.asymmetricKeyType).toBe('ec');
    // An EC leaf under an RSA root: TLS 1.3 and, for old phones, TLS 1.2.
    expect((await tlsHandshake(old.runtime.gatewayPort, oldCaPem)).version).toBe('TLSv1.3');
    expect((await tlsHandshake(old.runtime.gatewayPort, oldCaPem, { maxVersion: 'TLSv1.2' })).version).toBe('TLSv1.2');
    const status = JSON.parse((await old.cli(['cert', 'status', '--json'])).stdout);
    expect(status.caNameConstraints).toBe(false);
  });

  test('`beep cert rotate-ca` refuses without --yes when stdin is not a terminal, and changes nothing', async () => {
    const refused = await old.cli(['cert', 'rotate-ca']);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/every phone must pair again/i);
    expect(refused.stderr).toMatch(/--yes/);
    // The API asks for the same go-ahead: a bare POST changes nothing.
    const bare = await old.admin('POST', '/api/v1/cert/rotate-ca', {});
    expect(bare.status).toBe(400);
    expect(bare.body.error.message).toMatch(/every phone pair again/);
    expect((await old.gateway('GET', '/ca.crt')).text).toBe(oldCaPem);
  });

  test('`beep cert rotate-ca --yes` swaps in a constrained CA live, says phones re-pair, and audits it', async () => {
    const rotated = await old.cli(['cert', 'rotate-ca', '--yes']);
    expect(rotated.status).toBe(0);
    expect(rotated.stdout + rotated.stderr).toMatch(/every phone must pair again/i);
    const newCaPem = fs.readFileSync(path.join(old.dataDir, 'certs', 'ca.crt'), 'utf8');
    expect(newCaPem).not.toBe(oldCaPem);
    const newFingerprint = `sha256/${crypto.createHash('sha256').update(new crypto.X509Certificate(newCaPem).raw).digest('hex')}`;
    expect(rotated.stdout).toContain(newFingerprint);
    // The running gateway serves a chain under the new CA (no restart), and the old CA no longer verifies it.
    expect(old.proc.exitCode).toBeNull();
    expect((await tlsHandshake(old.runtime.gatewayPort, newCaPem)).version).toBe('TLSv1.3');
    await expect(tlsHandshake(old.runtime.gatewayPort, oldCaPem)).rejects.toThrow();
    const runtime = JSON.parse(fs.readFileSync(path.join(old.dataDir, 'daemon.json'), 'utf8'));
    expect(runtime.caFingerprint).toBe(newFingerprint);
    expect(openssl(['x509', '-in', path.join(old.dataDir, 'certs', 'ca.crt'), '-noout', '-text'])).toMatch(/Name Constraints: critical/);
    const status = JSON.parse((await old.cli(['cert', 'status', '--json'])).stdout);
    expect(status).toMatchObject({ caFingerprint: newFingerprint, caNameConstraints: true });
    const audit = await old.admin('GET', '/api/v1/audit?limit=20');
    expect(JSON.stringify(audit.body)).toMatch(/ca_rotated/);
    expect(JSON.stringify(audit.body)).toContain(newFingerprint);
  });
});
