import type { NotificationInput, NotificationSource, StoredNotification } from '../domain/notification';
import type { Priority } from '../domain/priority';
import { openRow, sealRow } from '../store/row-seal';
import type { FieldSealer } from '../store/rows';

// A notification as the outbox stream holds it: the public fields in clear (what indexes and
// routing need), the private ones in the same one seal a SQLite row has (store/row-seal.ts),
// bound to the notification's public id, so a seal copied to another entry fails to open.
// The seq is the entry's stream id and is not repeated inside.

/** The JSON of an entry's `n` field. */
interface EntryJson {
  id: string;
  priority: number;
  topic: string | null;
  source: string;
  createdAt: string;
  replaces: string | null;
  markdown: boolean;
  untitled: boolean;
  tokenId: number | null;
  sealed: string;
  /** `Cache: no`: the devices it is owed to. */
  owedTo?: string[];
}

/** The entry JSON of an input about to be appended (sealed once, here). */
export function encodeEntry(sealer: FieldSealer, input: NotificationInput, id: string, createdAt: string): string {
  const secrets = { title: input.title, body: input.body, app: input.app, tags: input.tags, url: input.url, icon: input.icon ?? null, givenPriority: input.givenPriority, actions: input.actions, attachment: input.attachment ?? undefined };
  const entry: EntryJson = {
    id,
    priority: input.priority,
    topic: input.topic,
    source: input.source,
    createdAt,
    replaces: input.replaces ?? null,
    markdown: input.markdown ?? false,
    untitled: input.untitled ?? false,
    tokenId: input.tokenId ?? null,
    sealed: sealRow(sealer, id, secrets).sealed as string,
    ...(input.owedTo ? { owedTo: input.owedTo } : {}),
  };
  return JSON.stringify(entry);
}

/** The stream id of a seq, and back. */
export function streamId(seq: number): string {
  return `${seq}-0`;
}

export function seqOfStreamId(id: string): number {
  return Number.parseInt(id, 10);
}

/** A stored entry as the app sees it (throws when its seal does not open). */
export function decodeEntry(sealer: FieldSealer, seq: number, json: string, dismissedAt: string | null = null): StoredNotification {
  const e = JSON.parse(json) as EntryJson;
  const { title, body, app, tags, url, icon, givenPriority, actions, attachment } = openRow(sealer, { id: e.id, sealed: e.sealed, title: '', body: '', app: '', tags: '', url: null, icon: null });
  return {
    seq,
    id: e.id,
    title,
    body,
    app,
    priority: e.priority as Priority,
    tags,
    url,
    topic: e.topic,
    source: e.source as NotificationSource,
    createdAt: e.createdAt,
    dismissedAt,
    replaces: e.replaces,
    icon,
    markdown: e.markdown,
    untitled: e.untitled,
    tokenId: e.tokenId,
    ...(givenPriority !== undefined ? { givenPriority } : {}),
    ...(actions ? { actions } : {}),
    ...(attachment ? { attachment } : {}),
    ...(e.owedTo ? { uncached: true, owedTo: e.owedTo } : {}),
  };
}

/** The entry JSON among a stream entry's flat field list ([p, 5, t, '', n, '{...}']). */
export function entryJsonOf(fields: string[]): string {
  // By pairs: a topic may itself be named 'n'.
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === 'n') return fields[i + 1];
  throw new Error('an outbox entry without its n field');
}
