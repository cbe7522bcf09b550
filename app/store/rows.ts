import type { Device } from '../domain/device';
import type { NotificationSource, StoredNotification } from '../domain/notification';
import type { Priority } from '../domain/priority';

// Row shapes as SQLite returns them, and their mapping to domain objects.

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

export const NOTIFICATION_COLUMNS = 'seq, id, title, body, app, priority, tags, url, topic, source, created_at, dismissed_at, replaces, icon, markdown, untitled, token_id';
export const DEVICE_COLUMNS = 'id, name, platform, paired_at, last_seen_at, revoked_at, paired_seq, token_gen, topics';

export function toNotification(row: NotificationRow): StoredNotification {
  return {
    seq: row.seq,
    id: row.id,
    title: row.title,
    body: row.body,
    app: row.app,
    priority: row.priority as Priority,
    tags: JSON.parse(row.tags) as string[],
    url: row.url,
    topic: row.topic,
    source: row.source as NotificationSource,
    createdAt: row.created_at,
    dismissedAt: row.dismissed_at,
    replaces: row.replaces,
    icon: row.icon,
    markdown: row.markdown === 1,
    untitled: row.untitled === 1,
    tokenId: row.token_id,
  };
}

export function toDevice(row: DeviceRow): Device & { tokenGen: number } {
  const topics = row.topics === null ? null : (JSON.parse(row.topics) as string[]);
  return {
    id: row.id,
    name: row.name,
    platform: row.platform,
    pairedAt: row.paired_at,
    lastSeenAt: row.last_seen_at,
    revokedAt: row.revoked_at,
    pairedSeq: row.paired_seq,
    tokenGen: row.token_gen,
    topics,
  };
}
