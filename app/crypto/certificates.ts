// TLS material for the LAN gateway: a long-lived local CA that phones pin, and a short-lived server
// certificate signed by it, kept on disk and renewed when it expires or the machine's names change.
import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { rm } from 'node:fs/promises';
import {
  createCertificateAuthority,
  inspectCertificate,
  isServerKey,
  isSupportedKey,
  issueServerCertificate,
  type CertificateAndKey,
  type CertificateSummary,
} from './certificate-authority';
import { certPaths, ensureDirectory, readIfExists, renameDurably, STAGED_SUFFIX, writeFileAtomic, type CertPaths } from './cert-files';
import { splitByConstraints } from './name-constraints';
import { sanLabels, wantedNames, type WantedNames } from './subject-alt-names';

export { defaultNames } from './subject-alt-names';

const DEFAULT_RENEW_BEFORE_DAYS = 30; // a month of margin for a daemon that is rarely restarted
const DAY_MS = 24 * 60 * 60 * 1000; // milliseconds per day, for the renewal window

// What the gateway needs to serve HTTPS/WSS and what pairing shows to phones.
export interface TlsMaterial {
  caCertPem: string;
  certPem: string;
  keyPem: string;
  caFingerprint: string; // 'sha256/<64 lowercase hex>' of the CA certificate DER
  notAfter: Date; // server certificate expiry
  subjectAltNames: string[]; // what the server cert covers: 'DNS:localhost', 'IP:127.0.0.1', ...
  caNameConstrained: boolean; // false for a CA made before name constraints (`beep cert rotate-ca` replaces it)
  leftOutNames: string[]; // wanted names the CA may not vouch for, so not in the server cert: 'DNS:laptop'
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

/** Material as loaded: `issued` when a new server certificate was written. */
export type LoadedTls = TlsMaterial & { issued: boolean };

// The pin phones store at pairing: SHA-256 of the certificate's DER encoding.
export function fingerprintOf(certPem: string): string {
  return `sha256/${createHash('sha256').update(new X509Certificate(certPem).raw).digest('hex')}`;
}

// Loads the CA and server certificate from options.dir, creating the CA once and (re)issuing the
// server certificate when it is missing, expiring, from another CA, not P-256, or misses a wanted name.
export async function loadOrCreateCertificates(options: CertificateOptions): Promise<LoadedTls> {
  const { at, wanted, paths } = await prepare(options);
  await finishStagedAuthority(paths);
  const ca = await loadOrCreateAuthority(paths, wanted, at);
  return serveUnder(ca, paths, wanted, at, options);
}

/**
 * `beep cert rotate-ca`: replaces the CA with a new (name-constrained, P-256) one and issues a
 * server certificate under it. Every phone that pinned the old CA must pair again.
 */
export async function rotateAuthority(options: CertificateOptions): Promise<LoadedTls & { previousFingerprint: string | null }> {
  const { at, wanted, paths } = await prepare(options);
  await finishStagedAuthority(paths);
  const previous = await readIfExists(paths.caCert);
  const ca = await createCertificateAuthority(caLabel(wanted), at);
  // Staged complete (key, then cert) before either live file changes; a crash is finished at the next load.
  await writeFileAtomic(`${paths.caKey}${STAGED_SUFFIX}`, ca.keyPem);
  await writeFileAtomic(`${paths.caCert}${STAGED_SUFFIX}`, ca.certPem);
  await finishStagedAuthority(paths);
  const material = await serveUnder(ca, paths, wanted, at, { ...options, force: true });
  return { ...material, previousFingerprint: previous === undefined ? null : fingerprintOf(previous) };
}

async function prepare(options: CertificateOptions): Promise<{ at: Date; wanted: WantedNames; paths: CertPaths }> {
  const renewBeforeDays = options.renewBeforeDays ?? DEFAULT_RENEW_BEFORE_DAYS;
  if (!Number.isFinite(renewBeforeDays) || renewBeforeDays < 0) {
    throw new Error(`renewBeforeDays must be a non-negative number, got ${renewBeforeDays}`);
  }
  const at = (options.now ?? (() => new Date()))();
  const wanted = wantedNames(options.hostnames, options.addresses);
  await ensureDirectory(options.dir);
  return { at, wanted, paths: certPaths(options.dir) };
}

// The server certificate under ca for the names ca may vouch for: the stored one if still good.
async function serveUnder(ca: CertificateAndKey, paths: CertPaths, wanted: WantedNames, at: Date, options: CertificateOptions): Promise<LoadedTls> {
  const caSummary = inspectCertificate(ca.certPem);
  const { kept, leftOut } = splitByConstraints(caSummary.nameConstraints, wanted);
  const renewBeforeMs = (options.renewBeforeDays ?? DEFAULT_RENEW_BEFORE_DAYS) * DAY_MS;
  let server = options.force ? undefined : await reusableServerCertificate(paths, ca, kept, at, renewBeforeMs);
  const issued = server === undefined;
  if (server === undefined) {
    server = await issueServerCertificate(ca, kept, at);
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
    caNameConstrained: caSummary.nameConstraints !== null,
    leftOutNames: leftOut,
    issued,
  };
}

// Completes a rotation that staged ca.key.next and ca.crt.next: the staged cert is written last,
// so its presence means both are whole. A staged key alone is a rotation that died before that.
async function finishStagedAuthority(paths: CertPaths): Promise<void> {
  const stagedKey = `${paths.caKey}${STAGED_SUFFIX}`;
  const stagedCert = `${paths.caCert}${STAGED_SUFFIX}`;
  if ((await readIfExists(stagedCert)) === undefined) {
    await rm(stagedKey, { force: true });
    return;
  }
  if ((await readIfExists(stagedKey)) !== undefined) await renameDurably(stagedKey, paths.caKey);
  await renameDurably(stagedCert, paths.caCert);
}

function caLabel(wanted: WantedNames): string {
  return wanted.hostnames.find((h) => h !== 'localhost') ?? 'localhost';
}

// Reuses an existing CA unconditionally (phones pinned it); creates one only when ca.crt is absent.
async function loadOrCreateAuthority(paths: CertPaths, wanted: WantedNames, at: Date): Promise<CertificateAndKey> {
  const certPem = await readIfExists(paths.caCert);
  if (certPem === undefined) {
    // Without ca.crt no phone can have pinned this CA; a lone ca.key is a first run that died midway.
    const ca = await createCertificateAuthority(caLabel(wanted), at);
    await writeFileAtomic(paths.caKey, ca.keyPem);
    await writeFileAtomic(paths.caCert, ca.certPem); // written last: its presence marks a complete CA
    return ca;
  }
  return checkAuthority(paths, certPem, at);
}

/** Checks a stored CA (a CA, its key present and matching, not expired); throws saying what to do. */
export async function checkAuthority(paths: CertPaths, certPem: string, at: Date): Promise<CertificateAndKey> {
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
      `The Beep CA in ${paths.caCert} expired on ${summary.notAfter.toISOString()}; run \`beep cert rotate-ca\` or delete ` +
        `${paths.caKey} and ${paths.caCert} to create a new one (every phone must then be paired again)`,
    );
  }
  return { certPem, keyPem };
}

// The stored server certificate and key if they can keep being served; undefined means issue anew.
async function reusableServerCertificate(
  paths: CertPaths,
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
    isServerKey(key) && // an RSA server key from before P-256 is replaced now
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
    throw new Error(`${file} is corrupt or not a PEM X.509 certificate: ${messageOf(error)}`);
  }
}

function parsePrivateKey(file: string, pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new Error(`${file} is corrupt or not a PEM private key: ${messageOf(error)}`);
  }
  if (!isSupportedKey(key)) {
    throw new Error(`${file} holds a ${key.asymmetricKeyType ?? 'unknown'} key; Beep certificates use P-256 or RSA keys`);
  }
  return key;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
