import fs from 'node:fs';
import type https from 'node:https';
import path from 'node:path';
import type { BeepConfig } from '../config/schema';
import { ADDRESS_POLL_MS, CERT_CHECK_INTERVAL_MS } from '../config/defaults';
import { adoptAuthority } from '../crypto/ca-adoption';
import { defaultNames, loadOrCreateCertificates, rotateAuthority, type LoadedTls, type TlsMaterial } from '../crypto/certificates';
import { CertificateRenewer } from '../crypto/certificate-renewer';
import { readRuntimeInfo, writeRuntimeInfo } from '../discovery';
import { certificateNames, publicHostOf } from '../config/public-url';
import type { Logger } from '../observability/logger';
import type { AuditLog } from '../observability/audit-log';
import type { LogFor } from './observability';

// The gateway's certificate: loaded (or created) at start, renewed while running and swapped
// into the live TLS server. `current` is what every reader (metrics, pairing, health) sees.
// One location whatever starts Beep: <data dir>/certs, unless `--cert-dir` says otherwise; a CA
// left in the clone's certs/ by an older `npm start` is moved into it once.

/** The certificate in use; the renewer replaces `current` when it swaps one in. */
export interface TlsState {
  current: TlsMaterial;
  load: (force: boolean) => Promise<LoadedTls>;
  /** `beep cert rotate-ca`; `expected` is the CA being replaced (a cluster node checks it: composition/cluster-ca.ts). */
  rotate: (expected: string) => Promise<LoadedTls>;
}

/** The installed code's top folder (a clone's), skipping the copy of package.json tsc puts in dist/. */
function packageRoot(): string | null {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) {
      const parent = path.dirname(dir);
      return path.basename(dir) === 'dist' && fs.existsSync(path.join(parent, 'package.json')) ? parent : dir;
    }
    if (path.dirname(dir) === dir) return null;
  }
}

/** Where an older `npm start` (`--cert-dir certs`) kept the CA, when the default location is in use. */
function cloneCertDir(config: BeepConfig): string | null {
  if (path.resolve(config.tls.certDir) !== path.join(config.dataDir, 'certs')) return null; // --cert-dir given: used as is
  const root = packageRoot();
  const legacy = root === null ? null : path.join(root, 'certs');
  return legacy !== null && legacy !== path.resolve(config.tls.certDir) ? legacy : null;
}

async function adoptCloneCa(config: BeepConfig, log: Logger): Promise<void> {
  const from = cloneCertDir(config);
  if (from === null) return;
  const to = config.tls.certDir;
  const result = await adoptAuthority(from, to);
  if (result.outcome === 'adopted') {
    log.info(`adopted the CA from ${from} into ${to} (moved): paired phones keep working`, { from, to, caFingerprint: result.fingerprint });
    if (result.leftBehind) log.warn(`could not remove the old copy of the CA in ${from}; delete its ca.key and ca.crt`, { error: result.leftBehind });
  } else if (result.outcome === 'conflict') {
    log.warn(`${from} holds a different CA from ${to}; using ${to} (${result.kept}), ignoring ${from} (${result.ignored}): phones paired with the ignored CA must pair again, or delete ${from}`, {
      kept: result.kept,
      ignored: result.ignored,
    });
  } else if (result.outcome === 'unusable') {
    log.warn(`not adopting the CA in ${from}: ${result.reason}`, { from });
  }
}

// Loud when a certificate was just issued without them, quiet on the starts that reuse it.
function reportNames(m: TlsMaterial, log: Logger, issued = true): void {
  if (m.leftOutNames.length > 0) {
    log[issued ? 'warn' : 'info']('names outside the CA\'s name constraints are left out of the server certificate; phones reach this PC by the names and addresses it covers', {
      leftOut: m.leftOutNames,
      covers: m.subjectAltNames,
    });
  }
}

/** Loads the CA and server certificate from `tls.certDir`, creating or renewing them if due. */
export async function loadTls(config: BeepConfig, logFor: LogFor): Promise<TlsState> {
  const log = logFor('certificates');
  await adoptCloneCa(config, log);
  // The host pairing links carry (gateway.publicHost, or gateway.publicUrl's) must be one the certificate names.
  const { hostnames, addresses } = certificateNames(publicHostOf(config.gateway));
  const options = { dir: config.tls.certDir, renewBeforeDays: config.tls.renewBeforeDays, hostnames, ...(addresses.length > 0 ? { addresses } : {}) };
  const load = (force: boolean) => loadOrCreateCertificates({ ...options, force });
  const current = await load(false);
  reportNames(current, log, current.issued);
  if (!current.caNameConstrained) {
    log.info('this CA has no name constraints (made before they existed); `beep cert rotate-ca` replaces it, and every phone then pairs again', {
      caFingerprint: current.caFingerprint,
    });
  }
  return { current, load, rotate: () => rotateAuthority(options) };
}

/** The HTTPS server options for one certificate. */
export function tlsOptions(config: BeepConfig, m: TlsMaterial): https.ServerOptions {
  return { cert: m.certPem, key: m.keyPem, ca: m.caCertPem, minVersion: config.tls.minVersion };
}

/** Renews the certificate daily or when the addresses change, swapping it into `gateway()` live. */
export function buildRenewer(config: BeepConfig, tls: TlsState, gateway: () => https.Server, audit: AuditLog, log: LogFor): CertificateRenewer {
  const certLog = log('certificates');
  return new CertificateRenewer(
    tls.current,
    {
      load: tls.load,
      rotate: tls.rotate,
      apply: (m) => {
        gateway().setSecureContext(tlsOptions(config, m));
        tls.current = m;
      },
      addresses: () => defaultNames().addresses,
      setInterval: (fn, ms) => setInterval(fn, ms),
      clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
      onRenewed: (m, reason) => {
        certLog.info('server certificate renewed', { reason, notAfter: m.notAfter.toISOString() });
        reportNames(m, certLog);
        void audit.record('certificate_renewed', reason === 'forced' ? 'admin' : 'system', { reason, notAfter: m.notAfter.toISOString() });
      },
      onRotated: (m, previous) => {
        // daemon.json carries the pin `beep listen --code` and scripts read: keep it true.
        const runtime = readRuntimeInfo(config.dataDir);
        if (runtime?.pid === process.pid) writeRuntimeInfo(config.dataDir, { ...runtime, caFingerprint: m.caFingerprint });
        certLog.warn('certificate authority replaced: every phone must pair again', { previous, caFingerprint: m.caFingerprint });
        reportNames(m, certLog);
        void audit.record('certificate_renewed', 'admin', { reason: 'ca_rotated', previous, caFingerprint: m.caFingerprint });
      },
      onFollowed: (m, previous) => {
        // Cluster mode: another node rotated the CA (it audited it); this node serves the new one now.
        const runtime = readRuntimeInfo(config.dataDir);
        if (runtime?.pid === process.pid) writeRuntimeInfo(config.dataDir, { ...runtime, caFingerprint: m.caFingerprint });
        certLog.warn('the cluster\'s certificate authority was replaced on another node; serving a certificate under it: every phone must pair again', { previous, caFingerprint: m.caFingerprint });
        reportNames(m, certLog);
      },
      onError: (error) => certLog.error('certificate check failed', { error: String(error) }),
    },
    { checkEveryMs: CERT_CHECK_INTERVAL_MS, addressPollMs: ADDRESS_POLL_MS },
  );
}
