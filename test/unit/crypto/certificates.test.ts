// Real-crypto tests for the gateway's CA and server certificates, including a TLS 1.3 handshake.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { addressFromBytes, addressToBytes, normalizeAddress } from '../../../app/crypto/subject-alt-names';
import { defaultNames, fingerprintOf, loadOrCreateCertificates, type TlsMaterial } from '../../../app/crypto/certificates';

const DAY_MS = 24 * 60 * 60 * 1000; // milliseconds per day
const SERVER_AUTH_OID = '1.3.6.1.5.5.7.3.1'; // id-kp-serverAuth
const EXTRA_ADDRESSES = ['192.168.77.23', 'fd00::23']; // private (RFC 1918) and unique-local: inside the CA's constraints
const POSIX_MODES = process.platform !== 'win32'; // Windows ignores POSIX permission bits

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beep-certs-'));
  tempDirs.push(dir);
  return dir;
}

const host = os.hostname().toLowerCase();
// The server certificate's CN: the first host name the CA's constraints allow (a bare `laptop` is not).
const coveredHost = /\.(local|lan|home\.arpa)$/.test(host) ? host : `${host.split('.')[0]}.local`;
let fixtureDir: string;
let first: TlsMaterial & { issued: boolean };

// Each mutating test works on its own copy of the fixture, so only one CA key is generated for them.
function copyOfFixture(): string {
  const dir = path.join(tempDir(), 'certs');
  fs.cpSync(fixtureDir, dir, { recursive: true });
  return dir;
}

function read(dir: string, name: string): string {
  return fs.readFileSync(path.join(dir, name), 'utf8');
}

beforeAll(async () => {
  fixtureDir = path.join(tempDir(), 'nested', 'certs'); // does not exist yet
  first = await loadOrCreateCertificates({ dir: fixtureDir, addresses: EXTRA_ADDRESSES });
});

afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('loadOrCreateCertificates: first run', () => {
  it('creates the four files with mode 0600 in a 0700 directory', () => {
    expect(first.issued).toBe(true);
    for (const name of ['ca.key', 'ca.crt', 'server.key', 'server.crt']) {
      const stat = fs.statSync(path.join(fixtureDir, name));
      if (POSIX_MODES) expect((stat.mode & 0o777).toString(8)).toBe('600');
    }
    if (POSIX_MODES) expect((fs.statSync(fixtureDir).mode & 0o777).toString(8)).toBe('700');
    expect(fs.readdirSync(fixtureDir).sort()).toEqual(['ca.crt', 'ca.key', 'server.crt', 'server.key']);
    expect(read(fixtureDir, 'ca.crt')).toBe(first.caCertPem);
    expect(read(fixtureDir, 'server.crt')).toBe(first.certPem);
    expect(read(fixtureDir, 'server.key')).toBe(first.keyPem);
  });

  it('issues a CA certificate and a server certificate that verifies against it', () => {
    const ca = new crypto.X509Certificate(first.caCertPem);
    const server = new crypto.X509Certificate(first.certPem);
    expect(ca.ca).toBe(true);
    expect(ca.subject).toContain(`CN=Beep local CA (${host})`);
    expect(ca.verify(ca.publicKey)).toBe(true); // self-signed
    expect(server.ca).toBe(false);
    expect(server.subject).toContain(`CN=${coveredHost}`);
    expect(server.checkIssued(ca)).toBe(true);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.keyUsage).toContain(SERVER_AUTH_OID);
    expect(server.checkPrivateKey(crypto.createPrivateKey(first.keyPem))).toBe(true);
    expect(ca.checkPrivateKey(crypto.createPrivateKey(read(fixtureDir, 'ca.key')))).toBe(true);
    // P-256 for both: one ECDSA signature per handshake instead of an RSA private-key operation.
    expect(ca.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(server.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(first.caNameConstrained).toBe(true);
  });

  it('gives the server certificate 397 days and the CA 10 years, both backdated for clock skew', () => {
    const now = Date.now();
    const ca = new crypto.X509Certificate(first.caCertPem);
    const server = new crypto.X509Certificate(first.certPem);
    expect(first.notAfter.getTime()).toBe(new Date(server.validTo).getTime());
    expect(first.notAfter.getTime() - now).toBeGreaterThan(396 * DAY_MS);
    expect(first.notAfter.getTime() - now).toBeLessThanOrEqual(397 * DAY_MS);
    expect(now - new Date(server.validFrom).getTime()).toBeGreaterThan(59 * 60 * 1000);
    expect(new Date(ca.validTo).getUTCFullYear()).toBe(new Date(now).getUTCFullYear() + 10);
    expect(now - new Date(ca.validFrom).getTime()).toBeGreaterThan(59 * 60 * 1000);
  });

  it('covers localhost, the loopback addresses, the host name, its .local name and the addresses passed in', () => {
    const wanted = [
      'DNS:localhost',
      `DNS:${host.split('.')[0]}.local`,
      'IP:127.0.0.1',
      'IP:::1',
      'IP:192.168.77.23',
      'IP:fd00::23',
    ];
    expect(first.subjectAltNames).toEqual(expect.arrayContaining(wanted));
    // Cross-check with OpenSSL's own reading of the extension.
    const openssl = new crypto.X509Certificate(first.certPem).subjectAltName ?? '';
    expect(openssl).toContain('DNS:localhost');
    expect(openssl).toContain('IP Address:127.0.0.1');
    expect(openssl).toContain('IP Address:192.168.77.23');
    expect(openssl).toMatch(/IP Address:(::1|0:0:0:0:0:0:0:1)(,|$)/);
  });

  it('reports the CA fingerprint as sha256/<hex> of the CA DER', () => {
    const der = new crypto.X509Certificate(first.caCertPem).raw;
    expect(first.caFingerprint).toMatch(/^sha256\/[0-9a-f]{64}$/);
    expect(first.caFingerprint).toBe(`sha256/${crypto.createHash('sha256').update(der).digest('hex')}`);
    expect(fingerprintOf(first.caCertPem)).toBe(first.caFingerprint);
  });
});

describe('loadOrCreateCertificates: later runs', () => {
  it('reuses the CA and server certificate when nothing changed', async () => {
    const again = await loadOrCreateCertificates({ dir: fixtureDir, addresses: EXTRA_ADDRESSES });
    expect(again.issued).toBe(false);
    expect(again.caFingerprint).toBe(first.caFingerprint);
    expect(again.certPem).toBe(first.certPem);
    expect(again.keyPem).toBe(first.keyPem);
    expect(again.notAfter).toEqual(first.notAfter);
  });

  it('treats differently spelled but equal addresses and host names as already covered', async () => {
    const again = await loadOrCreateCertificates({
      dir: fixtureDir,
      hostnames: ['LOCALHOST.'],
      addresses: ['FD00:0:0:0::23', ' 192.168.77.23'],
    });
    expect(again.issued).toBe(false);
  });

  it('renews the server certificate near expiry but keeps the CA', async () => {
    const dir = copyOfFixture();
    const later = new Date(Date.now() + 380 * DAY_MS);
    const renewed = await loadOrCreateCertificates({ dir, addresses: EXTRA_ADDRESSES, now: () => later });
    expect(renewed.issued).toBe(true);
    expect(renewed.caFingerprint).toBe(first.caFingerprint);
    expect(renewed.caCertPem).toBe(first.caCertPem);
    expect(read(dir, 'ca.key')).toBe(read(fixtureDir, 'ca.key'));
    expect(renewed.certPem).not.toBe(first.certPem);
    expect(renewed.keyPem).not.toBe(first.keyPem);
    expect(renewed.notAfter.getTime()).toBeGreaterThan(later.getTime() + 396 * DAY_MS);
    expect(new crypto.X509Certificate(renewed.certPem).verify(new crypto.X509Certificate(first.caCertPem).publicKey)).toBe(true);
    expect(read(dir, 'server.crt')).toBe(renewed.certPem);
    // The renewed certificate is then stable at that time.
    const again = await loadOrCreateCertificates({ dir, addresses: EXTRA_ADDRESSES, now: () => later });
    expect(again.issued).toBe(false);
  });

  it('honours renewBeforeDays', async () => {
    const dir = copyOfFixture();
    const later = new Date(Date.now() + 300 * DAY_MS); // ~97 days left
    expect((await loadOrCreateCertificates({ dir, addresses: EXTRA_ADDRESSES, now: () => later })).issued).toBe(false);
    const early = await loadOrCreateCertificates({ dir, addresses: EXTRA_ADDRESSES, now: () => later, renewBeforeDays: 120 });
    expect(early.issued).toBe(true);
  });

  it('renews the server certificate when a new address appears', async () => {
    const dir = copyOfFixture();
    const addresses = [...EXTRA_ADDRESSES, '10.9.8.7'];
    const renewed = await loadOrCreateCertificates({ dir, addresses });
    expect(renewed.issued).toBe(true);
    expect(renewed.subjectAltNames).toEqual(expect.arrayContaining(['IP:10.9.8.7', 'IP:192.168.77.23']));
    expect(renewed.caFingerprint).toBe(first.caFingerprint);
    expect((await loadOrCreateCertificates({ dir, addresses })).issued).toBe(false);
  });

  it('renews the server certificate when a new host name is wanted', async () => {
    const dir = copyOfFixture();
    const renewed = await loadOrCreateCertificates({ dir, hostnames: ['beep.home.arpa'], addresses: EXTRA_ADDRESSES });
    expect(renewed.issued).toBe(true);
    expect(renewed.subjectAltNames).toContain('DNS:beep.home.arpa');
  });

  it('re-issues a server certificate signed by another CA', async () => {
    const otherDir = path.join(tempDir(), 'other');
    const other = await loadOrCreateCertificates({ dir: otherDir, addresses: EXTRA_ADDRESSES });
    const dir = copyOfFixture();
    fs.copyFileSync(path.join(otherDir, 'server.crt'), path.join(dir, 'server.crt'));
    fs.copyFileSync(path.join(otherDir, 'server.key'), path.join(dir, 'server.key'));
    const fixed = await loadOrCreateCertificates({ dir, addresses: EXTRA_ADDRESSES });
    expect(other.caFingerprint).not.toBe(first.caFingerprint);
    expect(fixed.issued).toBe(true);
    expect(fixed.caFingerprint).toBe(first.caFingerprint);
    expect(new crypto.X509Certificate(fixed.certPem).checkIssued(new crypto.X509Certificate(first.caCertPem))).toBe(true);
  });

  it('re-issues when server.key does not match server.crt (crash between the two renames)', async () => {
    const dir = copyOfFixture();
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    fs.writeFileSync(path.join(dir, 'server.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    expect((await loadOrCreateCertificates({ dir, addresses: EXTRA_ADDRESSES })).issued).toBe(true);
  });

  it('re-issues when server.crt is missing', async () => {
    const dir = copyOfFixture();
    fs.rmSync(path.join(dir, 'server.crt'));
    const fixed = await loadOrCreateCertificates({ dir, addresses: EXTRA_ADDRESSES });
    expect(fixed.issued).toBe(true);
    expect(fixed.caFingerprint).toBe(first.caFingerprint);
  });
});

describe('loadOrCreateCertificates: names outside the CA\'s constraints', () => {
  it('leaves public names and single-label names out, reports them, and does not reissue for them', async () => {
    const dir = copyOfFixture();
    const options = { dir, hostnames: ['beep.example.com', 'laptop', 'laptop.lan'], addresses: [...EXTRA_ADDRESSES, '198.51.100.23', '2001:db8::23'] };
    const tls = await loadOrCreateCertificates(options);
    expect(tls.subjectAltNames).toContain('DNS:laptop.lan');
    expect(tls.leftOutNames).toEqual(expect.arrayContaining(['DNS:beep.example.com', 'DNS:laptop', 'IP:198.51.100.23', 'IP:2001:db8::23']));
    for (const name of tls.leftOutNames) expect(tls.subjectAltNames).not.toContain(name);
    const openssl = new crypto.X509Certificate(tls.certPem).subjectAltName ?? '';
    expect(openssl).not.toMatch(/example|198\.51|2001:DB8/i);
    expect((await loadOrCreateCertificates(options)).issued).toBe(false);
  });
});

describe('loadOrCreateCertificates: damaged files', () => {
  it('throws a clear error naming a corrupt ca.crt', async () => {
    const dir = copyOfFixture();
    fs.writeFileSync(path.join(dir, 'ca.crt'), first.caCertPem.slice(0, first.caCertPem.length / 2));
    await expect(loadOrCreateCertificates({ dir })).rejects.toThrow(
      new RegExp(`${path.join(dir, 'ca.crt').replace(/[.\\]/g, '\\$&')} is corrupt`),
    );
    expect(read(dir, 'ca.key')).toBe(read(fixtureDir, 'ca.key')); // nothing was regenerated
  });

  it('throws a clear error naming a corrupt server.crt or ca.key', async () => {
    const dir = copyOfFixture();
    fs.writeFileSync(path.join(dir, 'server.crt'), 'not a certificate');
    await expect(loadOrCreateCertificates({ dir })).rejects.toThrow(/server\.crt is corrupt/);
    const dir2 = copyOfFixture();
    fs.writeFileSync(path.join(dir2, 'ca.key'), '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n');
    await expect(loadOrCreateCertificates({ dir: dir2 })).rejects.toThrow(/ca\.key is corrupt/);
  });

  it('refuses to replace a CA whose key is missing', async () => {
    const dir = copyOfFixture();
    fs.rmSync(path.join(dir, 'ca.key'));
    await expect(loadOrCreateCertificates({ dir })).rejects.toThrow(/ca\.key is missing/);
    expect(read(dir, 'ca.crt')).toBe(first.caCertPem);
  });

  it('rejects invalid requested names', async () => {
    const dir = copyOfFixture();
    await expect(loadOrCreateCertificates({ dir, addresses: ['300.1.1.1'] })).rejects.toThrow(/Invalid IP address/);
    await expect(loadOrCreateCertificates({ dir, hostnames: ['bad name'] })).rejects.toThrow(/Invalid hostname/);
  });
});

describe('defaultNames', () => {
  it('lists localhost, the host names, loopback and every non-internal, non-link-local address', () => {
    const names = defaultNames();
    expect(names.hostnames).toEqual(expect.arrayContaining(['localhost', host]));
    expect(names.addresses.slice(0, 2)).toEqual(['127.0.0.1', '::1']);
    const expected = Object.values(os.networkInterfaces())
      .flatMap((entries) => entries ?? [])
      .filter((e) => !e.internal && !(e.family === 'IPv6' && (e.scopeid || e.address.toLowerCase().startsWith('fe80:'))))
      .map((e) => e.address);
    expect(names.addresses).toEqual(expect.arrayContaining(expected));
    expect(names.addresses.some((a) => a.startsWith('fe80:') || a.includes('%'))).toBe(false);
    expect(new Set(names.addresses).size).toBe(names.addresses.length);
  });
});

describe('TLS handshake', () => {
  let server: https.Server;
  let port: number;

  beforeAll(async () => {
    server = https.createServer({ cert: first.certPem, key: first.keyPem, minVersion: 'TLSv1.3' }, (_req, res) => {
      res.end('beep');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  function get(options: https.RequestOptions): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = https.get({ host: '127.0.0.1', port, path: '/', agent: false, rejectUnauthorized: true, ...options }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
    });
  }

  it('succeeds for a client that trusts the Beep CA (by name and by IP address)', async () => {
    await expect(get({ ca: first.caCertPem, servername: 'localhost' })).resolves.toBe('beep');
    await expect(get({ ca: first.caCertPem })).resolves.toBe('beep'); // matched against the IP:127.0.0.1 SAN
  });

  it('fails with a certificate error for a client that does not trust the CA', async () => {
    await expect(get({ servername: 'localhost' })).rejects.toMatchObject({
      code: expect.stringMatching(/CERT|SIGNATURE|ISSUER/),
    });
  });

  it('fails for a name the certificate does not cover', async () => {
    await expect(get({ ca: first.caCertPem, servername: 'not-covered.example' })).rejects.toMatchObject({
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
  });
});

describe('IP address encoding for iPAddress SANs', () => {
  it.each([
    ['127.0.0.1', '7f000001'],
    ['::1', '00000000000000000000000000000001'],
    ['2001:db8::23', '20010db8000000000000000000000023'],
    ['fd00:1:2:3:4:5:6:7', 'fd000001000200030004000500060007'],
    ['::ffff:192.0.2.1', '00000000000000000000ffffc0000201'],
    ['1::', '00010000000000000000000000000000'],
  ])('round-trips %s', (address, hex) => {
    expect(normalizeAddress(address)).toBe(address);
    expect(addressToBytes(address).toString('hex')).toBe(hex);
    expect(addressFromBytes(Buffer.from(hex, 'hex'))).toBe(address);
  });
});
