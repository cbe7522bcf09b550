import type { NotificationAction } from '../domain/action';
import type { Attachment } from '../domain/notification';
import type { FieldSealer } from './rows';

// One seal per notification row: every private field (title, body, app, tags, the click URL,
// the icon; later ones join the same object) is serialised once and sealed once, its
// associated data naming the table and the row, so a seal copied to another row fails to open.
// Rows written before (`sealed` NULL) hold four seals, one per column, and a plaintext url and
// icon: `openRow` still reads them, and `resealRow` turns them into one seal.

/** What a notification keeps private at rest. */
export interface RowSecrets {
  title: string;
  body: string;
  app: string;
  tags: string[];
  url: string | null;
  icon: string | null;
  /** The priority a Gotify publisher gave; absent when none was (old rows read unchanged). */
  givenPriority?: number;
  /** Action buttons; absent when none (rows sealed before them read unchanged). */
  actions?: NotificationAction[];
  /** Absent unless the notification has one (rows written before read unchanged). */
  attachment?: Attachment;
}

/** The columns a notification row keeps its secrets in, whichever format it is in. */
export interface SealedColumns {
  id: string;
  sealed: string | null;
  title: string;
  body: string;
  app: string;
  tags: string;
  url: string | null;
  icon: string | null;
}

/** The values of those columns for a row in the one-seal format. */
export type RowSealColumns = Omit<SealedColumns, 'id'>;

/**
 * The associated data of a row's seal. The colon keeps it apart from the four-seal format's
 * `notifications.<column>.<id>`: no id (ID_PATTERN has neither '.' nor ':') makes them meet.
 */
export function rowAad(id: string): string {
  return `notifications:${id}`;
}

/** The associated data of one value in the four-seal format. */
function columnAad(column: string, id: string): string {
  return `notifications.${column}.${id}`;
}

/** The optional fields, each present only when it holds something (a row without them seals as before). */
function optionalOf(s: Partial<RowSecrets>): Pick<RowSecrets, 'givenPriority' | 'actions' | 'attachment'> {
  return {
    ...(typeof s.givenPriority === 'number' ? { givenPriority: s.givenPriority } : {}),
    ...(s.actions?.length ? { actions: s.actions } : {}),
    ...(s.attachment ? { attachment: s.attachment } : {}),
  };
}

/** The columns to store for a row: its one seal, and the old per-field columns left empty. */
export function sealRow(sealer: FieldSealer, id: string, secrets: RowSecrets): RowSealColumns {
  const plain = JSON.stringify({ title: secrets.title, body: secrets.body, app: secrets.app, tags: secrets.tags, url: secrets.url, icon: secrets.icon, ...optionalOf(secrets) });
  return { sealed: sealer.seal(plain, rowAad(id)), title: '', body: '', app: '', tags: '', url: null, icon: null };
}

/** A row's secrets, from its one seal or from the four-seal format. Throws when a seal does not open. */
export function openRow(sealer: FieldSealer, row: SealedColumns): RowSecrets {
  if (row.sealed !== null) {
    const s = JSON.parse(sealer.open(row.sealed, rowAad(row.id))) as Partial<RowSecrets>;
    return { title: s.title ?? '', body: s.body ?? '', app: s.app ?? '', tags: s.tags ?? [], url: s.url ?? null, icon: s.icon ?? null, ...optionalOf(s) };
  }
  const open = (column: string, value: string) => sealer.open(value, columnAad(column, row.id));
  return {
    title: open('title', row.title),
    body: open('body', row.body),
    app: open('app', row.app),
    tags: JSON.parse(open('tags', row.tags)) as string[],
    url: row.url,
    icon: row.icon,
  };
}

/** The row's columns sealed once under the current key, or null when it already is. */
export function resealRow(sealer: FieldSealer, row: SealedColumns): RowSealColumns | null {
  if (row.sealed !== null && sealer.keyIdOf(row.sealed) === sealer.currentKeyId()) return null;
  return sealRow(sealer, row.id, openRow(sealer, row));
}
