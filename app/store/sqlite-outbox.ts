import type { Outbox } from '../ingest/ingest-service';
import type { GroupWriter } from './group-writer';
import type { NotificationRepository } from './notification-repository';

// The outbox on SQLite: an append or a dismissal is one write of a group commit; a client-id
// lookup reads the main connection (an index probe) and answers as a promise, as a shared store
// would.

/** The outbox ingest appends to (ingest/ingest-service.ts declares it) and the shared dismiss path marks (composition/relay.ts). */
export class SqliteOutbox implements Outbox {
  constructor(
    private readonly writer: GroupWriter,
    private readonly notifications: NotificationRepository,
  ) {}

  async append(...[input, id, afterCommit]: Parameters<Outbox['append']>): ReturnType<Outbox['append']> {
    const outcome = await this.writer.run(() => this.notifications.append(input, id, new Date()), afterCommit);
    // Cache: no with no device connected: owed to nobody, so gone once live subscribers have had it
    // (they got it from the commit callback). If this write fails (stopping), the next progress
    // write or retention sweep purges it instead.
    if (input.owedTo?.length === 0 && !outcome.duplicate) void this.writer.run(() => this.notifications.uncached.purge()).catch(() => undefined);
    return outcome;
  }

  async has(id: string): Promise<boolean> {
    return this.notifications.has(id);
  }

  /** Marks it dismissed once (null when unknown or already dismissed); `afterCommit` runs in commit order. */
  dismiss(id: string, byDevice: string | null, afterCommit?: (r: { seq: number; dismissalSeq: number } | null) => void) {
    return this.writer.run(() => this.notifications.dismiss(id, byDevice, new Date()), afterCommit);
  }
}
