import type { DesktopIdStore } from '../sources/source';
import type { DesktopIdRepository } from './desktop-id-repository';
import type { GroupWriter } from './group-writer';

// The captured-notification ↔ desktop-id map on SQLite, for the sources: a write is one write of
// a group commit; lookups read the main connection (index probes) and answer as promises.

/** What a desktop source needs (sources/source.ts declares it). */
export class SqliteDesktopIds implements DesktopIdStore {
  constructor(
    private readonly writer: GroupWriter,
    private readonly ids: DesktopIdRepository,
  ) {}

  rememberDesktopId(source: string, key: string, notificationId: string): Promise<void> {
    return this.writer.run(() => this.ids.remember(source, key, notificationId, Date.now()));
  }

  async notificationForDesktopKey(source: string, key: string): Promise<string | undefined> {
    return this.ids.notificationFor(source, key);
  }

  async desktopKeyOf(source: string, notificationId: string): Promise<string | undefined> {
    return this.ids.keyFor(source, notificationId);
  }
}
