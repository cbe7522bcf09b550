import type { Device } from '../domain/device';
import type { NotificationSource, StoredNotification } from '../domain/notification';
import type { Priority } from '../domain/priority';
import { openRow } from './row-seal';

// Row shapes as SQLite returns them, and their mapping to domain objects. Private text is
// stored sealed: a notification's private fields in one seal per row (row-seal.ts), a device's
// name with associated data naming the table, column and row.

/** What the store needs from field encryption; crypto/FieldCipher implements it. */
export interface FieldSealer {
  seal(plain: string, aad: string): string;
  open(sealed: string, aad: string): string;
  currentKeyId(): string;
  keyIdOf(sealed: string): string;
}

/** The associated data of one stored value: it cannot be moved to another row or column. */
export function aadOf(table: 'devices' | 'admin_credentials', column: string, rowKey: string): string {
  return `${table}.${column}.${rowKey}`;
}

export interface NotificationRow {
  seq: number;
  id: string;
  title: string;
  body: string;
  app: string;
  priority: number;
  tags: string;
  url: string | null;
  topic: string | null;
  source: string;
  created_at: string;
  dismissed_at: string | null;
  replaces: string | null;
  icon: string | null;
  markdown: number;
  untitled: number;
  token_id: number | null;
  /** The one seal of title, body, app, tags, url and icon; null in the four-seal format of before. */
  sealed: string | null;
}

export interface DeviceRow {
  id: string;
  name: string;
  platform: string;
  paired_at: string;
  last_seen_at: string | null;
  revoked_at: string | null;
  paired_seq: number;
  token_gen: number;
  topics: string | null;
}

export const NOTIFICATION_COLUMNS = 'seq, id, title, body, app, priority, tags, url, topic, source, created_at, dismissed_at, replaces, icon, markdown, untitled, token_id, sealed';
export const DEVICE_COLUMNS = 'id, name, platform, paired_at, last_seen_at, revoked_at, paired_seq, token_gen, topics';

export function toNotification(row: NotificationRow, sealer: FieldSealer): StoredNotification {
  const { title, body, app, tags, url, icon, givenPriority, actions, attachment } = openRow(sealer, row);
  return {
    seq: row.seq,
    id: row.id,
    title,
    body,
    app,
    priority: row.priority as Priority,
    tags,
    url,
    topic: row.topic,
    source: row.source as NotificationSource,
    createdAt: row.created_at,
    dismissedAt: row.dismissed_at,
    replaces: row.replaces,
    icon,
    markdown: row.markdown === 1,
    untitled: row.untitled === 1,
    tokenId: row.token_id,
    ...(givenPriority !== undefined ? { givenPriority } : {}),
    ...(actions ? { actions } : {}),
    ...(attachment ? { attachment } : {}),
  };
}

export function toDevice(row: DeviceRow, sealer: FieldSealer): Device & { tokenGen: number } {
  const topics = row.topics === null ? null : (JSON.parse(row.topics) as string[]);
  return {
    id: row.id,
    name: sealer.open(row.name, aadOf('devices', 'name', row.id)),
    platform: row.platform,
    pairedAt: row.paired_at,
    lastSeenAt: row.last_seen_at,
    revokedAt: row.revoked_at,
    pairedSeq: row.paired_seq,
    tokenGen: row.token_gen,
    topics,
  };
}
