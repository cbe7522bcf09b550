import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { auditKeyFile, loadOrCreateAuditKey, readAuditKey } from '../crypto/audit-key';
import { AuditKey, type ChainVerdict } from '../domain/audit-chain';
import { checkpointHead } from '../domain/audit-checkpoint';
import { verifyAudit } from '../domain/audit-verify';
import { CheckpointFile } from './audit-checkpoint-file';
import { AuditRepository, auditSourceOf } from './audit-repository';
import { openDatabase } from './database';
import { DATABASE_FILE } from './snapshot';

// The audit log from the files alone, with the daemon running or not: `beep audit verify`, and
// the step of `beep restore` that checks a restored database's chain and records the restore.

const keysDir = (dataDir: string) => path.join(dataDir, 'keys');

/** Verifies beep.db's audit chain under keys/audit.key, held to audit.checkpoint (read first). */
export async function verifyAuditFiles(dataDir: string): Promise<ChainVerdict> {
  const verdict = await verifyOnce(dataDir);
  // A running daemon may have written its first entry (and started the file) meanwhile: look again.
  if (!verdict.ok && verdict.problem === 'checkpoint_missing' && CheckpointFile.inDataDir(dataDir).read()) return verifyOnce(dataDir);
  return verdict;
}

async function verifyOnce(dataDir: string): Promise<ChainVerdict> {
  const file = path.join(dataDir, DATABASE_FILE);
  if (!fs.existsSync(file)) throw new Error(`no database at ${file}`);
  const bytes = readAuditKey(keysDir(dataDir));
  const checkpoint = CheckpointFile.inDataDir(dataDir).read();
  const db = new Database(file, { readonly: true, fileMustExist: true, timeout: 5_000 });
  try {
    db.exec('BEGIN'); // one snapshot for the whole walk, however the daemon writes meanwhile
    return await verifyAudit(auditSourceOf(db), {
      key: bytes ? new AuditKey(bytes) : null,
      checkpoint: checkpoint?.records ?? null,
      unreadableLine: checkpoint?.unreadableLine,
      useCheckpoint: true,
    });
  } finally {
    if (db.inTransaction) db.exec('COMMIT');
    db.close();
  }
}

/**
 * After `beep restore` put a backup in place (daemon stopped): keys its chain if it predates
 * the key, verifies it under the key, and only if it is whole records the rollback — an
 * `audit_restored` entry and a signed record in the checkpoint file. A broken chain is left
 * unrecorded, so `beep audit verify` keeps naming its first bad entry.
 */
export async function recordRestoredAudit(dataDir: string, backupCreatedAt: string): Promise<ChainVerdict> {
  const hadKey = fs.existsSync(auditKeyFile(keysDir(dataDir)));
  const db = openDatabase({ file: path.join(dataDir, DATABASE_FILE), durability: 'full' });
  try {
    const audit = new AuditRepository(db, null);
    const { total, keyed } = audit.counts();
    if (!hadKey && keyed > 0) {
      throw new Error(`the backup's audit log is keyed but ${auditKeyFile(keysDir(dataDir))} is missing: copy keys/ from the original data directory, then run \`beep audit verify\``);
    }
    const key = new AuditKey(loadOrCreateAuditKey(keysDir(dataDir)));
    const checkpoint = CheckpointFile.inDataDir(dataDir);
    const before = checkpointHead(key, checkpoint.read()?.records ?? []);
    const replacedHead = 'head' in before ? before.head : null;
    if (keyed === 0 && total > 0) db.transaction(() => audit.upgradeUnkeyed(key, Date.now()))(); // a backup from before the key
    const verdict = await verifyAudit(auditSourceOf(db), { key, checkpoint: null, useCheckpoint: false });
    if (!verdict.ok) return verdict;
    const details = { backupCreatedAt, restoredThrough: verdict.head?.seq ?? 0, replacedHead: replacedHead?.seq ?? null };
    const head = db.transaction(() => audit.append({ event: 'audit_restored', actor: 'admin', details }, Date.now(), key))();
    checkpoint.appendRestored(key, head, new Date().toISOString());
    return { ...verdict, checked: verdict.checked + 1, head };
  } finally {
    db.close();
  }
}
