// The CA over its life: a CA from before name constraints (RSA, unconstrained) kept as it is,
// `beep cert rotate-ca` replacing it (and a crash in the middle of that), and the adoption of a
// CA left in a clone's certs/ by an older `npm start`.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { adoptAuthority } from '../../../app/crypto/ca-adoption';
import { defaultNames, fingerprintOf, loadOrCreateCertificates, rotateAuthority } from '../../../app/crypto/certificates';
import { basicConstraints, commonNameDer, keyUsage, signCertificate, subjectAltName, subjectKeyIdentifier } from '../../../app/crypto/x509-builder';

const DAY_MS = 24 * 60 * 60 * 1000;
const PUBLIC = ['198.51.100.23']; // RFC 5737 documentation range: outside any constraint of a new CA

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beep-ca-life-'));
  dirs.push(dir);
  return path.join(dir, 'certs');
}
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

const read = (dir: string, name: string) => fs.readFileSync(path.join(dir, name), 'utf8');

/** What Beep wrote before name constraints: an RSA root without them (and an RSA server certificate). */
function writeOldCa(dir: string): string {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const name = commonNameDer('Beep local CA (old)');
  const publicKey = crypto.createPublicKey(privateKey);
  const certPem = signCertificate(
    {
      serial: Buffer.from([1]),
      issuer: name,
      subject: name,
      notBefore: new Date(Date.now() - DAY_MS),
      notAfter: new Date(Date.now() + 3650 * DAY_MS),
      publicKey,
      extensions: [basicConstraints(true), keyUsage(['keyCertSign', 'cRLSign']), subjectKeyIdentifier(publicKey)],
    },
    privateKey,
  );
  fs.writeFileSync(path.join(dir, 'ca.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'ca.crt'), certPem, { mode: 0o600 });
  return certPem;
}

describe('a CA from before name constraints', () => {
  it('keeps its pin, is reported unconstrained, covers every wanted name, and gets a P-256 server certificate', async () => {
    const dir = tempDir();
    const oldCa = writeOldCa(dir);
    const tls = await loadOrCreateCertificates({ dir, addresses: PUBLIC });
    expect(tls.caFingerprint).toBe(fingerprintOf(oldCa));
    expect(tls.caNameConstrained).toBe(false);
    expect(tls.leftOutNames).toEqual([]);
    expect(tls.subjectAltNames).toContain('IP:198.51.100.23');
    const server = new crypto.X509Certificate(tls.certPem);
    expect(server.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(server.verify(new crypto.X509Certificate(oldCa).publicKey)).toBe(true);
  });

  it('has an RSA server certificate replaced at the next load, even when it is still valid', async () => {
    const dir = tempDir();
    const oldCa = writeOldCa(dir);
    const first = await loadOrCreateCertificates({ dir });
    // Put an RSA server certificate in place, as an older Beep left it.
    const caKey = crypto.createPrivateKey(read(dir, 'ca.key'));
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rsaCert = signCertificate(
      {
        serial: Buffer.from([2]),
        issuer: commonNameDer('Beep local CA (old)'),
        subject: commonNameDer('localhost'),
        notBefore: new Date(Date.now() - DAY_MS),
        notAfter: new Date(Date.now() + 300 * DAY_MS),
        publicKey: crypto.createPublicKey(privateKey),
        extensions: [basicConstraints(false), subjectAltName(defaultNames())], // covers every wanted name: only the key type is wrong
      },
      caKey,
    );
    fs.writeFileSync(path.join(dir, 'server.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    fs.writeFileSync(path.join(dir, 'server.crt'), rsaCert);
    const again = await loadOrCreateCertificates({ dir });
    expect(again.issued).toBe(true);
    expect(again.certPem).not.toBe(first.certPem);
    expect(new crypto.X509Certificate(again.certPem).publicKey.asymmetricKeyType).toBe('ec');
    expect(again.caFingerprint).toBe(fingerprintOf(oldCa));
  });
});

describe('rotateAuthority', () => {
  it('replaces the CA with a constrained P-256 one, reissues the server certificate and leaves public names out', async () => {
    const dir = tempDir();
    const oldCa = writeOldCa(dir);
    const oldKey = read(dir, 'ca.key');
    const rotated = await rotateAuthority({ dir, addresses: PUBLIC });
    expect(rotated.previousFingerprint).toBe(fingerprintOf(oldCa));
    expect(rotated.caFingerprint).not.toBe(rotated.previousFingerprint);
    expect(rotated.caNameConstrained).toBe(true);
    expect(rotated.issued).toBe(true);
    expect(rotated.leftOutNames).toContain('IP:198.51.100.23');
    expect(read(dir, 'ca.crt')).toBe(rotated.caCertPem);
    expect(read(dir, 'ca.key')).not.toBe(oldKey); // the key that could vouch for any site is gone
    expect(fs.readdirSync(dir).sort()).toEqual(['ca.crt', 'ca.key', 'server.crt', 'server.key']);
    const ca = new crypto.X509Certificate(rotated.caCertPem);
    expect(new crypto.X509Certificate(rotated.certPem).verify(ca.publicKey)).toBe(true);
    expect((await loadOrCreateCertificates({ dir, addresses: PUBLIC })).issued).toBe(false); // stable afterwards
  });

  it('finishes a rotation that crashed after staging both files, and drops a stage that never completed', async () => {
    const dir = tempDir();
    writeOldCa(dir);
    const staged = tempDir();
    const next = await loadOrCreateCertificates({ dir: staged });
    // Crash 1: both staged, ca.key already renamed, ca.crt not yet.
    fs.copyFileSync(path.join(staged, 'ca.key'), path.join(dir, 'ca.key'));
    fs.copyFileSync(path.join(staged, 'ca.crt'), path.join(dir, 'ca.crt.next'));
    const finished = await loadOrCreateCertificates({ dir });
    expect(finished.caFingerprint).toBe(next.caFingerprint);
    expect(fs.existsSync(path.join(dir, 'ca.crt.next'))).toBe(false);
    // Crash 2: only a staged key (the cert was never written): the live CA stays.
    fs.writeFileSync(path.join(dir, 'ca.key.next'), 'half a rotation');
    expect((await loadOrCreateCertificates({ dir })).caFingerprint).toBe(next.caFingerprint);
    expect(fs.existsSync(path.join(dir, 'ca.key.next'))).toBe(false);
  });
});

describe('adoptAuthority', () => {
  it('moves a CA into an empty data directory once: one copy of the key, other files left alone', async () => {
    const clone = tempDir();
    const data = tempDir();
    const made = await loadOrCreateCertificates({ dir: clone });
    const key = read(clone, 'ca.key');
    fs.writeFileSync(path.join(clone, 'README.md'), 'tracked in git');
    expect(await adoptAuthority(clone, data)).toEqual({ outcome: 'adopted', fingerprint: made.caFingerprint });
    expect(read(data, 'ca.crt')).toBe(made.caCertPem);
    expect(read(data, 'ca.key')).toBe(key);
    expect(fs.statSync(path.join(data, 'ca.key')).mode & 0o777).toBe(0o600);
    expect(fs.statSync(data).mode & 0o777).toBe(0o700);
    expect(fs.readdirSync(clone)).toEqual(['README.md']);
    expect((await loadOrCreateCertificates({ dir: data })).caFingerprint).toBe(made.caFingerprint);
    expect(await adoptAuthority(clone, data)).toEqual({ outcome: 'none' });
    // A second data directory (BEEP_HOME=/tmp/x) starts its own CA: it does not inherit this one.
    expect(await adoptAuthority(clone, tempDir())).toEqual({ outcome: 'none' });
  });

  it('never overwrites: different CAs are a conflict naming both, and the data directory keeps its own', async () => {
    const clone = tempDir();
    const data = tempDir();
    const theirs = await loadOrCreateCertificates({ dir: clone });
    const ours = await loadOrCreateCertificates({ dir: data });
    expect(await adoptAuthority(clone, data)).toEqual({ outcome: 'conflict', kept: ours.caFingerprint, ignored: theirs.caFingerprint });
    expect(read(data, 'ca.crt')).toBe(ours.caCertPem);
  });

  it('does nothing without a CA to adopt, and refuses a CA whose key is missing', async () => {
    const clone = tempDir();
    const data = tempDir();
    expect(await adoptAuthority(clone, data)).toEqual({ outcome: 'none' });
    await loadOrCreateCertificates({ dir: clone });
    fs.rmSync(path.join(clone, 'ca.key'));
    expect(await adoptAuthority(clone, data)).toMatchObject({ outcome: 'unusable', reason: expect.stringMatching(/ca\.key is missing/) });
    expect(fs.existsSync(path.join(data, 'ca.crt'))).toBe(false);
  });
});
