import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { writeSecretFile } from '../util/secure-file';

// The master key that wraps the data keys: 32 random bytes in `<keys>/master.key` (0600) made
// at first start, or derived from a passphrase with scrypt (salt in `<keys>/master.salt`).

const KEY_BYTES = 32;
const SALT_BYTES = 16;
/** scrypt cost: N = 2^15, r = 8 (32 MiB, ~100 ms): slows offline guessing of the passphrase. */
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

export function loadOrCreateMasterKey(dir: string, passphrase: string | null): Buffer {
  if (passphrase !== null) {
    const saltFile = path.join(dir, 'master.salt');
    if (!fs.existsSync(saltFile)) writeSecretFile(saltFile, crypto.randomBytes(SALT_BYTES));
    return crypto.scryptSync(passphrase.normalize('NFC'), fs.readFileSync(saltFile), KEY_BYTES, SCRYPT);
  }
  const file = path.join(dir, 'master.key');
  if (!fs.existsSync(file)) writeSecretFile(file, crypto.randomBytes(KEY_BYTES));
  const key = fs.readFileSync(file);
  if (key.length !== KEY_BYTES) throw new Error(`${file} must hold exactly ${KEY_BYTES} bytes`);
  return key;
}
