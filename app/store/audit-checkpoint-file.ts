import fs from 'node:fs';
import path from 'node:path';
import type { AuditKey, ChainHead } from '../domain/audit-chain';
import { headLine, parseCheckpoint, restoredLine, type CheckpointRecord } from '../domain/audit-checkpoint';
import { writeSecretFile } from '../util/secure-file';

// <data dir>/audit.checkpoint: the audit chain's head, appended after every committed entry,
// outside beep.db and outside backups (domain/audit-checkpoint.ts has the format and rules).

/** The checkpoint file's name in the data directory. */
export const CHECKPOINT_FILE = 'audit.checkpoint';

/** The append-only file of chain heads. */
export class CheckpointFile {
  constructor(
    readonly file: string,
    /** fsync each append (store.durability 'full'): the head then survives a power cut too. */
    private readonly sync = false,
  ) {}

  static inDataDir(dataDir: string, sync = false): CheckpointFile {
    return new CheckpointFile(path.join(dataDir, CHECKPOINT_FILE), sync);
  }

  /** Records a new head (one short line, appended). */
  appendHead(head: ChainHead): void {
    this.append(headLine(head));
  }

  /** Records, signed, that `beep restore` put a database with this head in place. */
  appendRestored(key: AuditKey, head: ChainHead, at: string): void {
    this.append(restoredLine(key, head, at));
  }

  /** The records, or null when there is no file. */
  read(): { records: CheckpointRecord[]; unreadableLine: number | null } | null {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    return parseCheckpoint(text);
  }

  /** Replaces the file by one head, atomically: done only after a verification found it all consistent. */
  compact(head: ChainHead): void {
    writeSecretFile(this.file, headLine(head));
  }

  /** Bytes the file holds now (0 when absent). */
  size(): number {
    try {
      return fs.statSync(this.file).size;
    } catch {
      return 0;
    }
  }

  private append(line: string): void {
    const fd = fs.openSync(this.file, 'a', 0o600);
    try {
      fs.writeSync(fd, line);
      if (this.sync) fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
}
