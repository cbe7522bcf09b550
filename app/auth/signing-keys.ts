import crypto, { type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { writeSecretFile } from '../util/secure-file';

// The ES256 keys that sign device access tokens: a ring on disk (`signing-<createdMs>.pem`,
// 0600), the newest signs, the one before it keeps verifying until every token it signed has
// expired, and older ones are deleted. KeyObjects are built once, at load or rotation.

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  createdMs: number;
}

/** What the token service needs: the signing key and a lookup by `kid`. */
export interface KeyRing {
  current(): SigningKey;
  byKid(kid: string): SigningKey | undefined;
}

export interface RingOptions {
  rotationDays: number;
  /** ms a retired key keeps verifying: the access-token lifetime (plus clock skew). */
  retainMs: number;
  now?: () => number;
}

const FILE = /^signing-(\d+)\.pem$/;
const LEGACY_FILE = 'signing-key.pem';

/** A signing key from its PEM, its kid derived from the public key (the file ring's and the cluster's ring's one way). */
export function keyFromPem(pem: string, createdMs: number): SigningKey {
  const privateKey = crypto.createPrivateKey(pem);
  const publicKey = crypto.createPublicKey(privateKey);
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const kid = crypto.createHash('sha256').update(der).digest('base64url').slice(0, 16);
  return { kid, privateKey, publicKey, createdMs };
}

/**
 * Loads (or creates) the ring in `dir`.
 *
 *   const ring = new SigningKeyRing(dir, { rotationDays: 30, retainMs: 15 * 60_000 });
 *   ring.rotateIfDue(); // at start and hourly; returns the new key when it rotated
 */
export class SigningKeyRing implements KeyRing {
  private keys: SigningKey[] = []; // newest first
  private readonly now: () => number;

  constructor(
    private readonly dir: string,
    private readonly options: RingOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.adoptLegacyKey();
    this.load();
    if (this.keys.length === 0) this.create();
  }

  current(): SigningKey {
    return this.keys[0];
  }

  byKid(kid: string): SigningKey | undefined {
    return this.keys.find((k) => k.kid === kid);
  }

  /** The kids that still verify, newest first. */
  kids(): string[] {
    return this.keys.map((k) => k.kid);
  }

  /** Makes a new signing key when the current one is older than the rotation period. */
  rotateIfDue(): SigningKey | undefined {
    const due = this.now() - this.current().createdMs >= this.options.rotationDays * 86_400_000;
    const created = due ? this.create() : undefined;
    this.dropRetired();
    return created;
  }

  private create(): SigningKey {
    const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const createdMs = Math.max(this.now(), (this.keys[0]?.createdMs ?? 0) + 1);
    writeSecretFile(path.join(this.dir, `signing-${createdMs}.pem`), pem);
    const key = keyFromPem(pem, createdMs);
    this.keys.unshift(key);
    return key;
  }

  /** A key retired (succeeded) longer ago than tokens live verifies nothing any more. */
  private dropRetired(): void {
    const keep: SigningKey[] = [this.keys[0]];
    for (let i = 1; i < this.keys.length; i++) {
      const retiredAt = this.keys[i - 1].createdMs;
      if (this.now() - retiredAt < this.options.retainMs) keep.push(this.keys[i]);
      else fs.rmSync(path.join(this.dir, `signing-${this.keys[i].createdMs}.pem`), { force: true });
    }
    this.keys = keep;
  }

  private load(): void {
    if (!fs.existsSync(this.dir)) return;
    const found: SigningKey[] = [];
    for (const name of fs.readdirSync(this.dir)) {
      const m = FILE.exec(name);
      if (m) found.push(keyFromPem(fs.readFileSync(path.join(this.dir, name), 'utf8'), Number(m[1])));
    }
    this.keys = found.sort((a, b) => b.createdMs - a.createdMs);
  }

  /** The single key of earlier versions joins the ring, dated by its file. */
  private adoptLegacyKey(): void {
    const legacy = path.join(this.dir, LEGACY_FILE);
    if (!fs.existsSync(legacy)) return;
    const createdMs = Math.floor(fs.statSync(legacy).mtimeMs);
    fs.renameSync(legacy, path.join(this.dir, `signing-${createdMs}.pem`));
  }
}
