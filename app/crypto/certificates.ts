// TLS material for the LAN gateway: a long-lived local CA that phones pin, and a short-lived server
// certificate signed by it, kept on disk and renewed when it expires or the machine's names change.
import { createHash, createPrivateKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import * as path from 'node:path';
import {
  createCertificateAuthority,
  inspectCertificate,
  issueServerCertificate,
  type CertificateAndKey,
  type CertificateSummary,
} from './certificate-authority';
import { sanLabels, wantedNames, type WantedNames } from './subject-alt-names';

export { defaultNames } from './subject-alt-names';

const DEFAULT_RENEW_BEFORE_DAYS = 30; // a month of margin for a daemon that is rarely restarted
const DAY_MS = 24 * 60 * 60 * 1000; // milliseconds per day, for the renewal window
const DIR_MODE = 0o700; // only the daemon's user may list the directory holding private keys
const FILE_MODE = 0o600; // keys (and certs, for uniformity) readable by the daemon's user only
const TEMP_SUFFIX_BYTES = 6; // random temp-file suffix so concurrent writers never share a temp file

const FILE_NAMES = { caKey: 'ca.key', caCert: 'ca.crt', serverKey: 'server.key', serverCert: 'server.crt' } as const;
type Paths = Record<keyof typeof FILE_NAMES, string>;

// What the gateway needs to serve HTTPS/WSS and what pairing shows to phones.
export interface TlsMaterial {
  caCertPem: string;
  certPem: string;
  keyPem: string;
  caFingerprint: string; // 'sha256/<64 lowercase hex>' of the CA certificate DER
  notAfter: Date; // server certificate expiry
  subjectAltNames: string[]; // what the server cert covers: 'DNS:localhost', 'IP:127.0.0.1', ...
}

// Where the material lives and which names it must cover (added to defaultNames()).
export interface CertificateOptions {
  dir: string;
  hostnames?: string[];
  addresses?: string[];
  now?: () => Date;
  renewBeforeDays?: number;
  force?: boolean; // issue a new server certificate even if the stored one is still good (`beep cert renew`)
}

// The pin phones store at pairing: SHA-256 of the certificate's DER encoding.
export function fingerprintOf(certPem: string): string {
  return `sha256/${createHash('sha256').update(new X509Certificate(certPem).raw).digest('hex')}`;
}

// Loads the CA and server certificate from options.dir, creating the CA once and (re)issuing the
// server certificate when it is missing, expiring, from another CA, or misses a wanted name.
export async function loadOrCreateCertificates(options: CertificateOptions): Promise<TlsMaterial & { issued: boolean }> {
  const renewBeforeDays = options.renewBeforeDays ?? DEFAULT_RENEW_BEFORE_DAYS;
  if (!Number.isFinite(renewBeforeDays) || renewBeforeDays < 0) {
    throw new Error(`renewBeforeDays must be a non-negative number, got ${renewBeforeDays}`);
  }
  const at = (options.now ?? (() => new Date()))();
  const wanted = wantedNames(options.hostnames, options.addresses);
  const paths = Object.fromEntries(
    Object.entries(FILE_NAMES).map(([key, name]) => [key, path.join(options.dir, name)]),
  ) as Paths;
  await ensureDirectory(options.dir);

  const ca = await loadOrCreateAuthority(paths, wanted, at);
  let server = options.force ? undefined : await reusableServerCertificate(paths, ca, wanted, at, renewBeforeDays * DAY_MS);
  const issued = server === undefined;
  if (server === undefined) {
    server = await issueServerCertificate(ca, wanted, at);
    // Key first: a crash between the renames leaves a key/cert mismatch, which the next start re-issues.
    await writeFileAtomic(paths.serverKey, server.keyPem);
    await writeFileAtomic(paths.serverCert, server.certPem);
  }
  const summary = inspectCertificate(server.certPem);
  return {
    caCertPem: ca.certPem,
    certPem: server.certPem,
    keyPem: server.keyPem,
    caFingerprint: fingerprintOf(ca.certPem),
    notAfter: summary.notAfter,
    subjectAltNames: sanLabels(summary),
    issued,
  };
}

// Reuses an existing CA unconditionally (phones pinned it); creates one only when ca.crt is absent.
async function loadOrCreateAuthority(paths: Paths, wanted: WantedNames, at: Date): Promise<CertificateAndKey> {
  const certPem = await readIfExists(paths.caCert);
  if (certPem === undefined) {
    // Without ca.crt no phone can have pinned this CA; a lone ca.key is a first run that died midway.
    const label = wanted.hostnames.find((h) => h !== 'localhost') ?? 'localhost';
    const ca = await createCertificateAuthority(label, at);
    await writeFileAtomic(paths.caKey, ca.keyPem);
    await writeFileAtomic(paths.caCert, ca.certPem); // written last: its presence marks a complete CA
    return ca;
  }
  const { x509, summary } = parseCertificate(paths.caCert, certPem);
  if (!x509.ca) {
    throw new Error(`${paths.caCert} is not a CA certificate (basicConstraints cA is not set)`);
  }
  const keyPem = await readIfExists(paths.caKey);
  if (keyPem === undefined) {
    throw new Error(
      `${paths.caKey} is missing but ${paths.caCert} exists; restore ${paths.caKey}, or delete ${paths.caCert} ` +
        'to create a new CA (every phone must then be paired again)',
    );
  }
  if (!x509.checkPrivateKey(parsePrivateKey(paths.caKey, keyPem))) {
    throw new Error(`${paths.caKey} is not the private key of ${paths.caCert}`);
  }
  if (summary.notAfter.getTime() <= at.getTime()) {
    throw new Error(
      `The Beep CA in ${paths.caCert} expired on ${summary.notAfter.toISOString()}; delete ${paths.caKey} and ` +
        `${paths.caCert} to create a new one (every phone must then be paired again)`,
    );
  }
  return { certPem, keyPem };
}

// The stored server certificate and key if they can keep being served; undefined means issue anew.
async function reusableServerCertificate(
  paths: Paths,
  ca: CertificateAndKey,
  wanted: WantedNames,
  at: Date,
  renewBeforeMs: number,
): Promise<CertificateAndKey | undefined> {
  const certPem = await readIfExists(paths.serverCert);
  const keyPem = await readIfExists(paths.serverKey);
  if (certPem === undefined || keyPem === undefined) return undefined;
  const { x509, summary } = parseCertificate(paths.serverCert, certPem);
  const key = parsePrivateKey(paths.serverKey, keyPem);
  const caX509 = new X509Certificate(ca.certPem);
  const usable =
    x509.checkPrivateKey(key) &&
    x509.checkIssued(caX509) &&
    x509.verify(caX509.publicKey) &&
    summary.notBefore.getTime() <= at.getTime() && // issued "in the future" by a clock that later went back
    summary.notAfter.getTime() - at.getTime() > renewBeforeMs &&
    covers(summary, wanted);
  return usable ? { certPem, keyPem } : undefined;
}

function covers(summary: CertificateSummary, wanted: WantedNames): boolean {
  return (
    wanted.hostnames.every((h) => summary.hostnames.includes(h)) &&
    wanted.addresses.every((a) => summary.addresses.includes(a))
  );
}

function parseCertificate(file: string, pem: string): { x509: X509Certificate; summary: CertificateSummary } {
  try {
    return { x509: new X509Certificate(pem), summary: inspectCertificate(pem) };
  } catch (error) {
    throw new Error(`${file} is corrupt or not a PEM X.509 RSA certificate: ${messageOf(error)}`);
  }
}

function parsePrivateKey(file: string, pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new Error(`${file} is corrupt or not a PEM private key: ${messageOf(error)}`);
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new Error(`${file} holds a ${key.asymmetricKeyType ?? 'unknown'} key; Beep certificates use RSA keys`);
  }
  return key;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function ensureDirectory(dir: string): Promise<void> {
  const created = await mkdir(dir, { recursive: true, mode: DIR_MODE });
  if (created !== undefined) await chmod(dir, DIR_MODE); // the umask may have masked bits off mode
}

// Writes via a temp file and rename so a crash never leaves a truncated key or certificate behind.
async function writeFileAtomic(file: string, data: string): Promise<void> {
  const temp = `${file}.${process.pid}.${randomBytes(TEMP_SUFFIX_BYTES).toString('hex')}.tmp`;
  try {
    const handle = await open(temp, 'wx', FILE_MODE);
    try {
      await handle.writeFile(data, 'utf8');
      await handle.chmod(FILE_MODE); // open()'s mode is filtered by the umask
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(path.dirname(file));
}

// Makes the rename itself durable; some platforms (Windows) cannot open a directory, which is harmless.
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Best effort only: the file contents are already synced.
  }
}
