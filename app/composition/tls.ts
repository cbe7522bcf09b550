import type https from 'node:https';
import type { BeepConfig } from '../config/schema';
import { ADDRESS_POLL_MS, CERT_CHECK_INTERVAL_MS } from '../config/defaults';
import { defaultNames, loadOrCreateCertificates, type TlsMaterial } from '../crypto/certificates';
import { CertificateRenewer } from '../crypto/certificate-renewer';
import type { AuditLog } from '../observability/audit-log';
import type { LogFor } from './observability';

// The gateway's certificate: loaded (or created) at start, renewed while running and swapped
// into the live TLS server. `current` is what every reader (metrics, pairing, health) sees.

/** The certificate in use; the renewer replaces `current` when it swaps one in. */
export interface TlsState {
  current: TlsMaterial;
  load: (force: boolean) => ReturnType<typeof loadOrCreateCertificates>;
}

/** Loads the CA and server certificate from `tls.certDir`, creating or renewing them if due. */
export async function loadTls(config: BeepConfig): Promise<TlsState> {
  const load = (force: boolean) =>
    loadOrCreateCertificates({ dir: config.tls.certDir, renewBeforeDays: config.tls.renewBeforeDays, force });
  return { current: await load(false), load };
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
      apply: (m) => {
        gateway().setSecureContext(tlsOptions(config, m));
        tls.current = m;
      },
      addresses: () => defaultNames().addresses,
      setInterval: (fn, ms) => setInterval(fn, ms),
      clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
      onRenewed: (m, reason) => {
        certLog.info('server certificate renewed', { reason, notAfter: m.notAfter.toISOString() });
        void audit.record('certificate_renewed', reason === 'forced' ? 'admin' : 'system', { reason, notAfter: m.notAfter.toISOString() });
      },
      onError: (error) => certLog.error('certificate check failed', { error: String(error) }),
    },
    { checkEveryMs: CERT_CHECK_INTERVAL_MS, addressPollMs: ADDRESS_POLL_MS },
  );
}
