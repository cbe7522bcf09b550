import crypto from 'node:crypto';

// Trust material a cluster keeps in Redis (the CA key, JWT signing keys, the master-key check)
// sealed under the master key every node is started with (crypto/master-key.ts: keys/master.key,
// or a passphrase with keys/master.salt): AES-256-GCM, its associated data naming what it is, so
// a sealed value moved to another key in Redis fails to open. Whoever reads Redis learns nothing.

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** `iv.ciphertext+tag`, base64url, bound to `aad`. */
export function sealUnderMaster(master: Buffer, plain: string, aad: string): string {
  const iv = crypto.randomBytes(IV_BYTES);
  const cipher = crypto.createCipheriv('aes-256-gcm', master, iv);
  cipher.setAAD(Buffer.from(`beep-cluster:${aad}`));
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${iv.toString('base64url')}.${body.toString('base64url')}`;
}

/** The plain text; throws (naming what) under another master key, another `aad`, or a damaged value. */
export function openUnderMaster(master: Buffer, sealed: string, aad: string): string {
  try {
    const [ivText, bodyText] = sealed.split('.');
    const body = Buffer.from(bodyText ?? '', 'base64url');
    const decipher = crypto.createDecipheriv('aes-256-gcm', master, Buffer.from(ivText ?? '', 'base64url'));
    decipher.setAAD(Buffer.from(`beep-cluster:${aad}`));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new Error(`the cluster's ${aad} in Redis cannot be opened: this node was started with another master key than the cluster's (copy keys/master.key, or keys/master.salt and the same passphrase, from a node of the cluster)`);
  }
}
