// One CA whatever starts Beep: `npm start` once kept the CA in the clone's ./certs, `beep start`
// and the service in <data dir>/certs. At start, a CA found in the clone's certs/ is moved into
// the data directory when that has none (so the phones that pinned it keep working). Moved, not
// copied: one copy of ca.key, and a later data directory (BEEP_HOME=/tmp/x) does not inherit it.
// When both hold a CA and they differ, nothing moves: the data directory's is used and the
// caller warns with both pins.
import { rm } from 'node:fs/promises';
import { certPaths, ensureDirectory, readIfExists, writeFileAtomic } from './cert-files';
import { checkAuthority, fingerprintOf } from './certificates';

/** What adoptAuthority found and did. */
export type Adoption =
  | { outcome: 'none' } // no CA in `from`
  | { outcome: 'same'; fingerprint: string } // both hold the same CA (adopted earlier)
  | { outcome: 'adopted'; fingerprint: string; leftBehind?: string } // leftBehind: why `from` still holds a copy
  | { outcome: 'conflict'; kept: string; ignored: string } // the data directory's CA wins
  | { outcome: 'unusable'; reason: string }; // `from` holds a CA that cannot be used (no key, expired…)

/**
 * Moves the CA in `from` into `to` when `to` has none; never overwrites a CA.
 *
 *   const result = await adoptAuthority('/home/me/beep/certs', '/home/me/.local/share/beep/certs');
 *   if (result.outcome === 'conflict') log.warn(…, { kept: result.kept, ignored: result.ignored });
 */
export async function adoptAuthority(from: string, to: string, now = new Date()): Promise<Adoption> {
  const source = certPaths(from);
  const target = certPaths(to);
  const fromCert = await readIfExists(source.caCert);
  if (fromCert === undefined) return { outcome: 'none' };
  const ignored = safeFingerprint(fromCert);
  const toCert = await readIfExists(target.caCert);
  if (toCert !== undefined) {
    const kept = fingerprintOf(toCert);
    return kept === ignored ? { outcome: 'same', fingerprint: kept } : { outcome: 'conflict', kept, ignored: ignored ?? 'unreadable' };
  }
  let ca;
  try {
    ca = await checkAuthority(source, fromCert, now);
  } catch (error) {
    return { outcome: 'unusable', reason: error instanceof Error ? error.message : String(error) };
  }
  await ensureDirectory(to);
  await writeFileAtomic(target.caKey, ca.keyPem);
  await writeFileAtomic(target.caCert, ca.certPem); // written last: its presence marks a complete CA
  const fingerprint = fingerprintOf(ca.certPem);
  try {
    // ca.crt goes last, so an interrupted removal leaves nothing that looks like a CA without a key.
    for (const file of [source.serverKey, source.serverCert, source.caKey, source.caCert]) await rm(file, { force: true });
  } catch (error) {
    return { outcome: 'adopted', fingerprint, leftBehind: error instanceof Error ? error.message : String(error) };
  }
  return { outcome: 'adopted', fingerprint };
}

function safeFingerprint(pem: string): string | null {
  try {
    return fingerprintOf(pem);
  } catch {
    return null;
  }
}
