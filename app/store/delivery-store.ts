import type { DeliveryStore, StoredProgress } from '../delivery/ports';
import type { StoredNotification } from '../domain/notification';
import type { Store } from './store';

// The DeliveryStore port on SQLite: progress, the resume backlog, dismissal cursors.

/** Implements delivery's storage port over the store's repositories and writer. */
export class SqliteDeliveryStore implements DeliveryStore {
  constructor(private readonly store: Store) {}

  async progress(deviceId: string): Promise<StoredProgress | undefined> {
    return this.store.devices.progress(deviceId);
  }

  async deviceTopics(deviceId: string): Promise<string[] | null> {
    return this.store.devices.byId(deviceId)?.topics ?? null;
  }

  pendingAbove(watermark: number): Promise<StoredNotification[]> {
    return this.store.notifications.pendingAbove(watermark);
  }

  /** `compute` runs inside the transaction, so it sees the freshest in-memory progress. */
  saveProgress(deviceId: string, compute: () => { watermark: number; ackedAbove: number[] }): Promise<void> {
    return this.store.writer.run(() => {
      const { watermark, ackedAbove } = compute();
      this.store.devices.saveProgress(deviceId, watermark, ackedAbove);
    });
  }

  dismissalsAfter(cursor: number): Promise<{ seq: number; notificationId: string }[]> {
    return this.store.notifications.dismissalsAfter(cursor);
  }

  saveDismissCursor(deviceId: string, cursor: number): Promise<void> {
    return this.store.writer.run(() => this.store.devices.saveDismissCursor(deviceId, cursor));
  }

  touch(deviceId: string, at: Date): Promise<void> {
    return this.store.writer.run(() => this.store.devices.touch(deviceId, at));
  }
}
