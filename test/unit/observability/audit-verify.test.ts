import crypto from 'node:crypto';
import { AuditKey, GENESIS_HASH, type AuditAnchor, type AuditRow, type ChainHead } from '../../../app/domain/audit-chain';
import { headLine, parseCheckpoint, restoredLine } from '../../../app/domain/audit-checkpoint';
import { verifyAudit } from '../../../app/domain/audit-verify';

// Verification held to the checkpoint file, pure: the file's heads only move forward (except
// through a signed restore record), a torn last line is a crash and not an attack, and the
// first problem in chain order is the one reported.

const key = new AuditKey(crypto.randomBytes(32));

function chain(n: number, from: ChainHead = { seq: 0, mac: GENESIS_HASH }, atBase = 1_000): AuditRow[] {
  const rows: AuditRow[] = [];
  let prev = from.mac;
  for (let seq = from.seq + 1; seq <= from.seq + n; seq++) {
    const fields = { seq, at_ms: atBase + seq, event: 'device_revoked', actor: 'admin', details: JSON.stringify({ seq }) };
    const mac = key.entryMac(prev, fields);
    rows.push({ ...fields, prev_hash: '', hash: '', mac });
    prev = mac;
  }
  return rows;
}

const head = (r: AuditRow): ChainHead => ({ seq: r.seq, mac: r.mac! });

function verify(rows: AuditRow[], checkpointText: string | null, anchor: AuditAnchor | null = null) {
  const parsed = checkpointText === null ? null : parseCheckpoint(checkpointText);
  return verifyAudit(
    { anchor: () => anchor, page: (after, limit) => rows.filter((r) => r.seq > after).slice(0, limit) },
    { key, checkpoint: parsed?.records ?? null, unreadableLine: parsed?.unreadableLine, useCheckpoint: true },
  );
}

test('the checkpoint agrees: ok; the database ahead of it (a crash before the append): ok', async () => {
  const rows = chain(5);
  expect(await verify(rows, rows.map((r) => headLine(head(r))).join(''))).toMatchObject({ ok: true, checked: 5 });
  expect(await verify(rows, headLine(head(rows[2])))).toMatchObject({ ok: true, checked: 5 });
  expect(await verify([], null)).toMatchObject({ ok: true, checked: 0 });
});

test('a torn last line is skipped; an unreadable line before it is reported', async () => {
  const rows = chain(3);
  expect(await verify(rows, `${headLine(head(rows[2]))}{"seq":4,"ma`)).toMatchObject({ ok: true });
  expect(await verify(rows, `garbage\n${headLine(head(rows[2]))}`)).toMatchObject({ ok: false, seq: 4, problem: 'checkpoint_forged' });
});

test('no checkpoint file beside keyed entries; a checkpoint head past the end; a head replaced', async () => {
  const rows = chain(4);
  expect(await verify(rows, null)).toMatchObject({ ok: false, seq: 1, problem: 'checkpoint_missing' });
  expect(await verify(rows.slice(0, 2), headLine(head(rows[3])))).toMatchObject({ ok: false, seq: 3, problem: 'truncated', checked: 2 });
  const other = { seq: 3, mac: 'ab'.repeat(32) };
  expect(await verify(rows, headLine(other))).toMatchObject({ ok: false, seq: 3, problem: 'checkpoint_mismatch', checked: 2 });
});

test('heads that go back are a cut tail written again, unless a signed restore record says so', async () => {
  const original = chain(6);
  const rewritten = [...original.slice(0, 3), ...chain(2, head(original[2]), 5_000)]; // the tail cut, then new entries 4 and 5
  const history = original.map((r) => headLine(head(r))).join('');
  const after = rewritten.slice(3).map((r) => headLine(head(r))).join('');
  expect(await verify(rewritten, history + after)).toMatchObject({ ok: false, seq: 4, problem: 'checkpoint_regressed', checked: 3 });
  const restore = restoredLine(key, head(rewritten[2]), '2030-01-01T00:00:00.000Z');
  expect(await verify(rewritten, history + restore + after)).toMatchObject({ ok: true, checked: 5 });
  const forged = restore.replace(/"sig":"[0-9a-f]{64}"/, `"sig":"${'f'.repeat(64)}"`);
  expect(await verify(rewritten, history + forged + after)).toMatchObject({ ok: false, problem: 'checkpoint_forged' });
});

test('after a prune, the chain starts at the signed anchor; a checkpoint head at or below it is vouched for by the anchor', async () => {
  const rows = chain(6);
  const anchor = { ...head(rows[2]), sig: key.sign('anchor', [rows[2].seq, rows[2].mac!]) };
  expect(await verify(rows.slice(3), headLine(head(rows[5])), anchor)).toMatchObject({ ok: true, checked: 3, firstSeq: 4 });
  expect(await verify(rows.slice(3), headLine(head(rows[1])), anchor)).toMatchObject({ ok: true, checked: 3 });
  expect(await verify(rows.slice(3), headLine({ seq: 3, mac: 'cd'.repeat(32) }), anchor)).toMatchObject({ ok: false, problem: 'checkpoint_mismatch' });
  expect(await verify(rows.slice(3), headLine(head(rows[5])), { ...anchor, seq: 2 })).toMatchObject({ ok: false, seq: 2, problem: 'anchor_forged' });
});
