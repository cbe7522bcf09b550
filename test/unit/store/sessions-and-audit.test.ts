import Database from 'better-sqlite3';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AuditRepository, auditSourceOf } from '../../../app/store/audit-repository';
import { CredentialRepository } from '../../../app/store/credential-repository';
import { migrate } from '../../../app/store/database';
import { AuditKey, entryHash, GENESIS_HASH, type AuditRow } from '../../../app/domain/audit-chain';
import { verifyAudit } from '../../../app/domain/audit-verify';

// The session cap (refresh-token families per device) and the audit chain, on a real schema.

function open() {
  const db = new Database(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'beep-trust-')), 't.db'));
  migrate(db);
  db.prepare("INSERT INTO devices (id, name, platform, paired_at, paired_seq) VALUES ('d1', 'n', 'p', 'now', 0)").run();
  return db;
}

test('at most N sessions per device: the oldest family is dropped, the newest kept', () => {
  const db = open();
  const creds = new CredentialRepository(db);
  const dropped: string[] = [];
  for (let i = 1; i <= 7; i++) {
    db.transaction(() => {
      creds.insertRefreshToken(`h${i}`, 'd1', `fam${i}`, i * 1000, 10 ** 13);
      dropped.push(...creds.capFamilies('d1', 5));
    })();
  }
  expect(dropped).toEqual(['fam1', 'fam2']);
  expect(creds.refreshToken('h1')).toBeUndefined();
  expect(creds.refreshToken('h3')).toBeDefined();
  expect(creds.refreshToken('h7')).toBeDefined();
  // Rotations inside one family do not count as new sessions.
  db.transaction(() => {
    creds.insertRefreshToken('h7b', 'd1', 'fam7', 8000, 10 ** 13);
    expect(creds.capFamilies('d1', 5)).toEqual([]);
  })();
});

test('audit entries chain under the key; an edit, a deletion and a stripped MAC are each found at their entry', async () => {
  const db = open();
  const audit = new AuditRepository(db, null);
  const key = new AuditKey(crypto.randomBytes(32));
  for (let i = 0; i < 5; i++) db.transaction(() => audit.append({ event: 'pairing_failed', actor: 'ip:1.2.3.4', details: { i } }, 1000 + i, key))();
  const rows = () => db.prepare('SELECT * FROM audit_log ORDER BY seq').all() as AuditRow[];
  const walk = (list: AuditRow[], k = key) => verifyAudit({ anchor: () => null, page: (after) => list.filter((r) => r.seq > after) }, { key: k, checkpoint: null, useCheckpoint: false });
  expect(await walk(rows())).toMatchObject({ ok: true, checked: 5, head: { seq: 5 } });
  expect(() => db.prepare('UPDATE audit_log SET actor = ? WHERE seq = 3').run('x')).toThrow(/append-only/);
  expect(() => db.prepare('UPDATE audit_log SET mac = ? WHERE seq = 3').run('0'.repeat(64))).toThrow(/append-only/);
  expect(() => db.prepare('DELETE FROM audit_log WHERE seq = 3').run()).toThrow(/append-only/);

  const edited = rows().map((r) => (r.seq === 3 ? { ...r, details: '{"i":99}' } : r));
  expect(await walk(edited)).toMatchObject({ ok: false, seq: 3, problem: 'altered', checked: 2 });
  expect(await walk(rows().filter((r) => r.seq !== 2))).toMatchObject({ ok: false, seq: 2, problem: 'missing' });
  expect(await walk(rows().map((r) => (r.seq === 4 ? { ...r, mac: null } : r)))).toMatchObject({ ok: false, seq: 4, problem: 'unsigned' });
  expect(await walk(rows(), new AuditKey(crypto.randomBytes(32)))).toMatchObject({ ok: false, seq: 1, problem: 'altered' });
});

test('an unkeyed chain is checked once and keyed; a break it already had stays reported', async () => {
  const legacy = (breakAt: number | null) => {
    const db = open();
    let prev = GENESIS_HASH;
    for (let seq = 1; seq <= 4; seq++) {
      const row = { seq, at_ms: 1000 + seq, event: 'device_revoked', actor: 'admin', details: JSON.stringify({ seq }) };
      const hash = entryHash(prev, row);
      const stored = seq === breakAt ? { ...row, details: '{"seq":99}' } : row; // edited without recomputing
      db.prepare('INSERT INTO audit_log (seq, at_ms, event, actor, details, prev_hash, hash) VALUES (@seq, @at_ms, @event, @actor, @details, @prev, @hash)').run({ ...stored, prev, hash });
      prev = hash;
    }
    return { db, head: prev };
  };
  const key = new AuditKey(crypto.randomBytes(32));
  const verify = (db: Database.Database) => verifyAudit(auditSourceOf(db), { key, checkpoint: null, useCheckpoint: false });

  const intact = legacy(null);
  const audit = new AuditRepository(intact.db, null);
  const upgrade = intact.db.transaction(() => audit.upgradeUnkeyed(key, 5000))();
  expect(upgrade).toMatchObject({ entries: 4, head: { seq: 5 }, legacyBroken: null });
  expect(audit.lastDetails('audit_chain_keyed')).toEqual({ legacyEntries: 4, legacyHead: intact.head });
  expect(await verify(intact.db)).toMatchObject({ ok: true, checked: 5 });
  expect(intact.db.transaction(() => audit.upgradeUnkeyed(key, 6000))()).toBeNull(); // once

  const broken = legacy(2);
  broken.db.transaction(() => new AuditRepository(broken.db, null).upgradeUnkeyed(key, 5000))();
  expect(await verify(broken.db)).toMatchObject({ ok: false, seq: 2, problem: 'broken_before_keying' });
});
