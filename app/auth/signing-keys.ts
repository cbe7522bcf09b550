import crypto, { type KeyObject } from 'node:crypto';
import path from 'node:path';
import { readIfExists, writeSecretFile } from '../util/secure-file';

// The ES256 key that signs device access tokens, made at first start and kept 0600.

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** Loads `<dir>/signing-key.pem`, creating it on first start. */
export function loadOrCreateSigningKey(dir: string): SigningKey {
  const file = path.join(dir, 'signing-key.pem');
  let pem = readIfExists(file);
  if (!pem) {
    const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    writeSecretFile(file, pem);
  }
  const privateKey = crypto.createPrivateKey(pem);
  const publicKey = crypto.createPublicKey(privateKey);
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const kid = crypto.createHash('sha256').update(der).digest('base64url').slice(0, 16);
  return { kid, privateKey, publicKey };
}
