import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

// One query-only connection in a worker thread, so a long history query (or a WAL checkpoint)
// never blocks the event loop that delivers notifications. query_only refuses every change to
// the data; unlike a read-only connection it may still checkpoint the WAL into the file.

export interface ReadRequest {
  id: number;
  sql: string;
  params: unknown[];
  /** 'close': the pool no longer needs this worker; it closes its connection and ends. */
  mode: 'all' | 'get' | 'close';
}

export interface ReadReply {
  id: number;
  rows?: unknown;
  error?: { message: string; code?: string };
}

const db = new Database(workerData.file as string, { fileMustExist: true, timeout: 5_000 });
db.pragma('query_only = ON');
const statements = new Map<string, Database.Statement>();

parentPort!.on('message', (request: ReadRequest) => {
  if (request.mode === 'close') {
    db.close();
    parentPort!.close();
    return;
  }
  const reply: ReadReply = { id: request.id };
  try {
    let stmt = statements.get(request.sql);
    if (!stmt) {
      stmt = db.prepare(request.sql);
      statements.set(request.sql, stmt);
    }
    reply.rows = request.mode === 'get' ? stmt.get(...request.params) : stmt.all(...request.params);
  } catch (error) {
    reply.error = { message: (error as Error).message, code: (error as { code?: string }).code };
  }
  parentPort!.postMessage(reply);
});
