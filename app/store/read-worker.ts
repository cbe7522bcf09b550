import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

// One read-only connection in a worker thread, so a long history query never blocks the
// event loop that delivers notifications.

export interface ReadRequest {
  id: number;
  sql: string;
  params: unknown[];
  mode: 'all' | 'get';
}

export interface ReadReply {
  id: number;
  rows?: unknown;
  error?: { message: string; code?: string };
}

const db = new Database(workerData.file as string, { readonly: true, fileMustExist: true, timeout: 5_000 });
const statements = new Map<string, Database.Statement>();

parentPort!.on('message', (request: ReadRequest) => {
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
