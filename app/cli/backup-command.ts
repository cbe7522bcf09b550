import fs from 'node:fs';
import path from 'node:path';
import { decryptFile, encryptFile, FileDataKey } from '../crypto/backup-cipher';
import { recordRestoredAudit } from '../store/audit-offline';
import { acquireDataDirLock, DataDirLockedError, type DataDirLock } from '../store/data-dir-lock';
import { checkDatabase, snapshotDatabase, swapInDatabase } from '../store/snapshot';
import { embedAttachments, extractAttachments } from '../store/attachment-backup';
import { describeAuditVerdict } from './security-commands';
import type { Io } from './commands';
import { count } from './text';
import { ProgressBar } from './progress-bar';

// `beep backup <file>` (online, while the daemon serves) and `beep restore <file>` (daemon
// stopped). Backups are encrypted with the data key in <data dir>/keys/backup.key.


function progress(label: string, io: Io & { tty?: boolean }): ProgressBar {
  return new ProgressBar(label, (t) => process.stderr.write(t), Boolean(io.tty));
}

export async function backupCommand(dataDir: string, out: string, io: Io & { tty?: boolean }): Promise<number> {
  const target = path.resolve(out);
  if (fs.existsSync(target)) {
    io.err(`${target} already exists; choose a new file name`);
    return 1;
  }
  const keys = FileDataKey.inDataDir(dataDir);
  const plain = path.join(dataDir, `backup-${process.pid}.tmp`);
  const bar = progress('backup ', io);
  try {
    const { pages } = await snapshotDatabase(dataDir, plain, (p) => bar.update(p.totalPages - p.remainingPages, p.totalPages));
    const counts = checkDatabase(plain);
    const files = embedAttachments(dataDir, plain);
    await encryptFile(plain, target, keys);
    io.out(`backed up ${count(counts.notifications, 'notification')} and ${count(counts.devices, 'device')} (${count(pages, 'page')}) to ${target}`);
    if (files > 0) io.out(`with ${count(files, 'attachment file')}`);
    io.out(`encrypted with ${keys.file} (key ${keys.keyId()}): keep a copy of that key, or the backup cannot be restored`);
    return 0;
  } finally {
    for (const suffix of ['', '-wal', '-shm', '-journal']) fs.rmSync(plain + suffix, { force: true });
  }
}

export async function restoreCommand(dataDir: string, file: string, io: Io): Promise<number> {
  // Held for the whole restore: a daemon starting meanwhile is refused instead of opening a half-swapped database.
  let lock: DataDirLock;
  try {
    lock = acquireDataDirLock(dataDir);
  } catch (error) {
    if (!(error instanceof DataDirLockedError)) throw error;
    io.err(`Beep is running (pid ${error.pid ?? '?'}) on ${dataDir}; stop it first (\`beep service\` users: systemctl --user stop beep), then restore`);
    return 1;
  }
  try {
    return await restoreLocked(dataDir, file, io);
  } finally {
    lock.release();
  }
}

async function restoreLocked(dataDir: string, file: string, io: Io): Promise<number> {
  const source = path.resolve(file);
  if (!fs.existsSync(source)) {
    io.err(`no backup at ${source}`);
    return 1;
  }
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const plain = path.join(dataDir, `restore-${process.pid}.tmp`);
  try {
    const header = await decryptFile(source, plain, FileDataKey.inDataDir(dataDir));
    const counts = checkDatabase(plain);
    const files = extractAttachments(plain, dataDir);
    const { previous } = swapInDatabase(dataDir, plain);
    if (files > 0) io.out(`restored ${count(files, 'attachment file')}`);
    io.out(`restored ${count(counts.notifications, 'notification')} and ${count(counts.devices, 'device')} from the backup of ${header.createdAt}`);
    if (previous) io.out(`the database it replaced is kept as ${previous}`);
    await reportRestoredAudit(dataDir, header.createdAt, io);
    return 0;
  } catch (error) {
    io.err(`restore failed: ${(error as Error).message}`);
    return 1;
  } finally {
    fs.rmSync(plain, { force: true });
  }
}

/** The restored audit log: recorded as a rollback when its chain is whole, else a warning that `beep audit verify` repeats. */
async function reportRestoredAudit(dataDir: string, createdAt: string, io: Io): Promise<void> {
  try {
    const verdict = await recordRestoredAudit(dataDir, createdAt);
    if (verdict.ok) io.out(`${describeAuditVerdict(verdict)}; the restore is recorded in it`);
    else io.err(`warning: ${describeAuditVerdict(verdict)}; \`beep audit verify\` will keep reporting it`);
  } catch (error) {
    io.err(`warning: ${(error as Error).message}`);
  }
}
