import Database from 'better-sqlite3';
import { buildBinaryPlist } from './bplist';

// A notification centre database as macOS lays it out (db2/db: tables app and record, each
// record's data a binary plist), for tests of the macOS source on any OS.

export class FakeNotificationCentre {
  readonly db: Database.Database;

  constructor(readonly file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`
      CREATE TABLE app (app_id INTEGER PRIMARY KEY, identifier VARCHAR, badge INTEGER NULL);
      CREATE TABLE record (rec_id INTEGER PRIMARY KEY, app_id INTEGER, uuid BLOB, data BLOB, request_date REAL,
        request_last_date REAL, delivered_date REAL, presented Bool, style INTEGER, snooze_fire_date REAL);`);
  }

  /** Posts a notification as usernoted would; returns its rec_id. */
  post(bundle: string, req: { titl?: string; subt?: string; body?: string }): number {
    let app = this.db.prepare('SELECT app_id FROM app WHERE identifier = ?').get(bundle) as { app_id: number } | undefined;
    if (!app) app = { app_id: Number(this.db.prepare('INSERT INTO app (identifier) VALUES (?)').run(bundle).lastInsertRowid) };
    const data = buildBinaryPlist({ app: bundle, date: new Date(), req: { ...req, iden: `id-${Date.now()}` }, uuid: Buffer.alloc(16, 7) });
    return this.insert(app.app_id, data);
  }

  insert(appId: number, data: Buffer): number {
    const now = (Date.now() - Date.UTC(2001, 0, 1)) / 1000;
    return Number(
      this.db
        .prepare('INSERT INTO record (app_id, uuid, data, request_date, delivered_date, presented, style) VALUES (?, ?, ?, ?, ?, 1, 1)')
        .run(appId, Buffer.alloc(16, 1), data, now, now).lastInsertRowid,
    );
  }

  /** Cleared in the notification centre. */
  remove(recId: number): void {
    this.db.prepare('DELETE FROM record WHERE rec_id = ?').run(recId);
  }

  close(): void {
    this.db.close();
  }
}
