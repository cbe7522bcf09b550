import type { StoredNotification } from '../domain/notification';
import type { HistorySource } from '../http/routes/notification-routes';
import type { NotificationRepository } from './notification-repository';

// The admin history (GET /api/v1/notifications) on SQLite: newest first, a page before a
// public id, read on the read pool.

/** What the notification routes need (http/routes/notification-routes.ts declares it). */
export class NotificationHistory implements HistorySource {
  constructor(private readonly notifications: NotificationRepository) {}

  async history(limit: number, beforeId: string | null): Promise<StoredNotification[]> {
    let beforeSeq: number | null = null;
    if (beforeId !== null) {
      const anchor = await this.notifications.findById(beforeId);
      if (!anchor) return [];
      beforeSeq = anchor.seq;
    }
    return this.notifications.history(limit, beforeSeq);
  }

  /** One notification by its public id (the attachment route reads its attachment's name and type). */
  findById(id: string): Promise<StoredNotification | undefined> {
    return this.notifications.findById(id);
  }
}
