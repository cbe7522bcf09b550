import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { writeSecretFile } from '../util/secure-file';

// The audit log's MAC key: 32 random bytes in <keys>/audit.key (0600), made at the first start.
// A key file beside the others, not wrapped in beep.db: whoever can rewrite the database can
// delete or swap what it holds, and `beep audit verify` must work with the daemon stopped and
// without the master passphrase (domain/audit-chain.ts uses it).

const KEY_BYTES = 32;

/** Where the audit key lives. */
export function auditKeyFile(keysDir: string): string {
  return path.join(keysDir, 'audit.key');
}

/** The key bytes, or null when this data directory never had one. */
export function readAuditKey(keysDir: string): Buffer | null {
  const file = auditKeyFile(keysDir);
  if (!fs.existsSync(file)) return null;
  const key = fs.readFileSync(file);
  if (key.length !== KEY_BYTES) throw new Error(`${file} must hold exactly ${KEY_BYTES} bytes`);
  return key;
}

/** The key bytes, made now if this is the first start. */
export function loadOrCreateAuditKey(keysDir: string): Buffer {
  const existing = readAuditKey(keysDir);
  if (existing) return existing;
  writeSecretFile(auditKeyFile(keysDir), crypto.randomBytes(KEY_BYTES));
  return readAuditKey(keysDir)!;
}
