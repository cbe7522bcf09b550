import type { AuditKey, ChainFailure, ChainHead } from './audit-chain';

// The checkpoint file's records, pure. The daemon appends the chain's head (seq + MAC) after
// every committed entry to <data dir>/audit.checkpoint, outside beep.db: whoever rewrites the
// database cannot make it forget entries that were there. One JSON object per line:
//
//   {"seq":41,"mac":"9f…"}                                   a head (the MAC vouches for itself)
//   {"restored":true,"seq":12,"mac":"…","at":"…","sig":"…"}  `beep restore` rolled back, signed

export type CheckpointRecord =
  | { kind: 'head'; seq: number; mac: string }
  | { kind: 'restored'; seq: number; mac: string; at: string; sig: string };

/** The line that records a new head. */
export function headLine(head: ChainHead): string {
  return `${JSON.stringify({ seq: head.seq, mac: head.mac })}\n`;
}

/** The signed line `beep restore` writes: from here on, the restored database's head is the one promised. */
export function restoredLine(key: AuditKey, head: ChainHead, at: string): string {
  return `${JSON.stringify({ restored: true, seq: head.seq, mac: head.mac, at, sig: key.sign('restored', [head.seq, head.mac, at]) })}\n`;
}

const isHex = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);

function parseLine(line: string): CheckpointRecord | null {
  try {
    const o = JSON.parse(line) as Record<string, unknown>;
    if (!Number.isSafeInteger(o.seq) || (o.seq as number) < 0 || !isHex(o.mac)) return null;
    const head = { seq: o.seq as number, mac: o.mac };
    if (o.restored === true) return typeof o.at === 'string' && isHex(o.sig) ? { kind: 'restored', ...head, at: o.at, sig: o.sig } : null;
    return { kind: 'head', ...head };
  } catch {
    return null;
  }
}

/** The records of a checkpoint file; a torn last line (a crash mid-append) is skipped, any other unreadable line is named. */
export function parseCheckpoint(text: string): { records: CheckpointRecord[]; unreadableLine: number | null } {
  const complete = text.split('\n').slice(0, -1); // what follows the last newline is torn (or empty)
  const records: CheckpointRecord[] = [];
  for (let i = 0; i < complete.length; i++) {
    const record = parseLine(complete[i]);
    if (!record) return { records, unreadableLine: i + 1 };
    records.push(record);
  }
  return { records, unreadableLine: null };
}

/**
 * The head the checkpoint file promises now, or the first record that betrays tampering: heads
 * only move forward, except through a signed `restored` record.
 *
 *   checkpointHead(key, parseCheckpoint(text).records) // { head: { seq: 41, mac } }
 */
export function checkpointHead(key: AuditKey, records: CheckpointRecord[]): { head: ChainHead | null } | { failure: ChainFailure } {
  let head: ChainHead | null = null;
  for (const record of records) {
    if (record.kind === 'restored') {
      if (!key.verify('restored', [record.seq, record.mac, record.at], record.sig)) {
        return { failure: { ok: false, checked: 0, seq: record.seq, problem: 'checkpoint_forged', detail: 'a restore record in the checkpoint file is not signed by the audit key' } };
      }
      head = { seq: record.seq, mac: record.mac };
      continue;
    }
    if (head && (record.seq < head.seq || (record.seq === head.seq && record.mac !== head.mac))) {
      const detail = `the checkpoint file went back from entry ${head.seq} to entry ${record.seq}: entries from ${record.seq} on were removed and written again`;
      return { failure: { ok: false, checked: 0, seq: record.seq, problem: 'checkpoint_regressed', detail } };
    }
    head = { seq: record.seq, mac: record.mac };
  }
  return { head };
}
