import type Redis from 'ioredis';
import { certPaths, ensureDirectory, readIfExists, writeFileAtomic } from '../crypto/cert-files';
import { createCertificateAuthority, type CertificateAndKey } from '../crypto/certificate-authority';
import { checkAuthority, fingerprintOf } from '../crypto/certificates';
import { LuaScript } from './lua-script';
import { openUnderMaster, sealUnderMaster } from './master-seal';
import type { RedisKeys } from './redis-keys';

// One CA for the cluster: phones pin one fingerprint whichever node they reach. Its key and
// certificate live in Redis sealed under the master key. A node keeps serving from its certs/
// directory exactly as today (crypto/certificates.ts loadOrCreateCertificates issues its own
// server certificate under the CA it finds there); `syncToDirectory` runs before that and makes
// the directory's CA the cluster's: the first node publishes its own CA (or a new one), every
// other node writes the cluster's into its directory, and its server certificate, no longer
// issued by that CA, is re-issued by the load that follows.

const AAD = 'certificate authority';

/** ARGV: CA key, generation key, the sealed CA read, the new sealed CA. The new generation, or 0 when the CA changed since it was read. */
const REPLACE_CA = new LuaScript(`
if redis.call('GET', ARGV[1]) ~= ARGV[3] then return 0 end
redis.call('SET', ARGV[1], ARGV[4])
return redis.call('INCR', ARGV[2])
`);

/** What rotate did: replaced the CA (its generation counts the replacements), or found it was not the expected one any more. */
export type CaRotation = { outcome: 'rotated'; fingerprint: string; previous: string; generation: number } | { outcome: 'changed'; fingerprint: string | null };

/** What syncToDirectory did. */
export type CaSync =
  | { outcome: 'published'; fingerprint: string } // the cluster had none: this node's (or a new) CA is the cluster's now
  | { outcome: 'written'; fingerprint: string } // the directory had none: the cluster's is in it now
  | { outcome: 'same'; fingerprint: string } // the directory already holds the cluster's CA
  | { outcome: 'replaced'; fingerprint: string; previous: string | null }; // the cluster's CA was written over the directory's (its phones must pair again)

/** The cluster's CA in Redis. */
export class RedisCaStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly master: Buffer,
  ) {}

  /** The cluster's CA, or null when none was published yet. */
  async get(): Promise<CertificateAndKey | null> {
    const sealed = await this.redis.get(this.keys.certificateAuthority);
    return sealed === null ? null : (JSON.parse(openUnderMaster(this.master, sealed, AAD)) as CertificateAndKey);
  }

  /** Publishes `ca` unless another node published one first; returns the cluster's. */
  async putIfAbsent(ca: CertificateAndKey): Promise<CertificateAndKey> {
    await this.redis.set(this.keys.certificateAuthority, sealUnderMaster(this.master, JSON.stringify(ca), AAD), 'NX');
    return (await this.get())!;
  }

  /**
   * `beep cert rotate-ca` on a cluster (run under the `ca-rotation` lease): replaces the CA with
   * `next` only while it is still the one whose fingerprint is `expected` (compare-and-set in one
   * script), so two requests made against the same CA give one new CA, never two. Every node then
   * syncs (syncToDirectory) and every phone pairs again.
   */
  async rotate(expected: string, next: CertificateAndKey): Promise<CaRotation> {
    const sealed = await this.redis.get(this.keys.certificateAuthority);
    const fingerprint = sealed === null ? null : fingerprintOf((JSON.parse(openUnderMaster(this.master, sealed, AAD)) as CertificateAndKey).certPem);
    if (sealed === null || fingerprint !== expected) return { outcome: 'changed', fingerprint };
    const replaced = Number(await REPLACE_CA.run(this.redis, [this.keys.certificateAuthority, this.keys.certificateAuthorityGeneration, sealed, sealUnderMaster(this.master, JSON.stringify(next), AAD)]));
    if (replaced === 0) {
      const now = await this.get();
      return { outcome: 'changed', fingerprint: now ? fingerprintOf(now.certPem) : null };
    }
    return { outcome: 'rotated', fingerprint: fingerprintOf(next.certPem), previous: expected, generation: replaced };
  }

  /** How many times the cluster's CA was rotated (0 for the first one). */
  async generation(): Promise<number> {
    return Number((await this.redis.get(this.keys.certificateAuthorityGeneration)) ?? 0);
  }

  /**
   * Makes `dir`'s CA the cluster's, before loadOrCreateCertificates({ dir }) runs. `label` names a
   * CA made here (the hostname, as certificates.ts does). A directory CA that cannot be used
   * (expired, no key) is never published.
   */
  async syncToDirectory(dir: string, label: string, now = new Date()): Promise<CaSync> {
    const paths = certPaths(dir);
    const localCert = await readIfExists(paths.caCert);
    let shared = await this.get();
    let published = false;
    if (!shared) {
      let local: CertificateAndKey | null = null;
      if (localCert !== undefined) local = await checkAuthority(paths, localCert, now).catch(() => null);
      const candidate = local ?? (await createCertificateAuthority(label, now));
      shared = await this.putIfAbsent(candidate);
      published = shared.certPem === candidate.certPem;
    }
    const fingerprint = fingerprintOf(shared.certPem);
    const localKey = await readIfExists(paths.caKey);
    if (localCert !== shared.certPem || localKey !== shared.keyPem) {
      await ensureDirectory(dir);
      await writeFileAtomic(paths.caKey, shared.keyPem);
      await writeFileAtomic(paths.caCert, shared.certPem); // written last: its presence marks a complete CA
    } else if (!published) {
      return { outcome: 'same', fingerprint };
    }
    if (published) return { outcome: 'published', fingerprint };
    if (localCert === undefined) return { outcome: 'written', fingerprint };
    return { outcome: 'replaced', fingerprint, previous: safeFingerprint(localCert) };
  }
}

function safeFingerprint(pem: string): string | null {
  try {
    return fingerprintOf(pem);
  } catch {
    return null;
  }
}
