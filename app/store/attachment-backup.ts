import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';

// Attachment files in backups: `beep backup` copies each stored file (already encrypted under
// the data keys the snapshot holds) into a table of the snapshot before the whole is encrypted,
// and `beep restore` writes them back to <data dir>/attachments and drops the table. One file at
// a time is in memory (15 MiB by default); the snapshot's own `attachments` rows say which.

const TABLE = 'backup_attachment_files';
export const ATTACHMENTS_DIR = 'attachments';

/** Copies the files the snapshot's `attachments` rows name into it; returns how many (a file gone meanwhile is skipped). */
export function embedAttachments(dataDir: string, snapshotFile: string): number {
  const db = new Database(snapshotFile);
  try {
    const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'attachments'").get();
    if (!hasTable) return 0;
    db.exec(`CREATE TABLE ${TABLE} (id TEXT PRIMARY KEY, bytes BLOB NOT NULL)`);
    const insert = db.prepare(`INSERT INTO ${TABLE} (id, bytes) VALUES (?, ?)`);
    let copied = 0;
    for (const { id } of db.prepare('SELECT id FROM attachments').all() as { id: string }[]) {
      const file = path.join(dataDir, ATTACHMENTS_DIR, path.basename(id));
      if (!fs.existsSync(file)) continue;
      insert.run(id, fs.readFileSync(file));
      copied++;
    }
    return copied;
  } finally {
    db.close();
  }
}

/**
 * Writes the files a restored snapshot carries into <data dir>/attachments (the directory it
 * replaces is kept as attachments.before-restore) and drops their table; returns how many.
 */
export function extractAttachments(restoredFile: string, dataDir: string): number {
  const db = new Database(restoredFile);
  try {
    const hasTable = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '${TABLE}'`).get();
    const dir = path.join(dataDir, ATTACHMENTS_DIR);
    const previous = `${dir}.before-restore`;
    if (fs.existsSync(dir)) {
      fs.rmSync(previous, { recursive: true, force: true });
      fs.renameSync(dir, previous);
    }
    if (!hasTable) return 0;
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    let written = 0;
    for (const row of db.prepare(`SELECT id, bytes FROM ${TABLE}`).iterate() as Iterable<{ id: string; bytes: Buffer }>) {
      fs.writeFileSync(path.join(dir, path.basename(row.id)), row.bytes, { mode: 0o600 });
      written++;
    }
    // The copies are ciphertext already; their pages are zeroed as they are freed all the same.
    db.pragma('secure_delete = ON');
    db.exec(`DROP TABLE ${TABLE}`);
    return written;
  } finally {
    db.close();
  }
}
