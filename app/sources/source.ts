import type { NotificationInput } from '../domain/notification';

// The adapter interface every desktop capture source implements (D-Bus on Linux, the
// notification centre database on macOS, the notification platform's database on Windows),
// and the small interfaces a source needs from the rest of Beep; daemon.ts supplies them.

/** Where a source hands what it captured: ingest (rules, outbox) and the dismissal path. */
export interface CaptureSink {
  /** Resolves with the public id once committed, or null when a rule muted it. */
  accept(input: NotificationInput): Promise<string | null>;
  /** The notification was closed on the desktop: dismiss it on every phone. */
  dismissed(id: string): Promise<void>;
}

/** Durable map between captured notifications and the desktop's own ids (store/ implements it). */
export interface DesktopIdStore {
  rememberDesktopId(source: string, key: string, notificationId: string): Promise<void>;
  notificationForDesktopKey(source: string, key: string): Promise<string | undefined>;
  desktopKeyOf(source: string, notificationId: string): Promise<string | undefined>;
}

/**
 * Where a polling source (macOS, Windows) stopped reading, kept durably so a restart neither
 * re-sends old notifications nor skips new ones (store/ implements it). The position is the
 * source's own text (sources/read-position.ts); the store keeps it as given.
 */
export interface SourcePositionStore {
  position(source: string): Promise<string | null>;
  savePosition(source: string, position: string): Promise<void>;
}

/** Counts a desktop record a source read and could not relay (metric), by a bounded reason. */
export type SkipCounter = (reason: string) => void;

/** attached = capturing; waiting = retrying (no bus or database yet); disabled by config. */
export type SourceState = 'attached' | 'waiting' | 'disabled';

export interface SourceStatus {
  state: SourceState;
  /** Where it reads from (bus address, database file). */
  from: string | null;
  /** Why it is not attached, for the log and /health/detailed. */
  reason?: string;
  /** An explicitly configured source that cannot attach degrades health. */
  expected: boolean;
}

/**
 * A desktop notification source.
 *
 *   const dbus = new DbusCapture(options, sink, ids, logger); dbus.start();
 *   await dbus.closeOnDesktop(id);   // a phone dismissed what dbus captured
 */
export interface DesktopSource {
  readonly name: NotificationInput['source'] | 'macos' | 'windows';
  /** Begins capturing; never throws for a missing bus or file (it keeps retrying instead). */
  start(): void;
  stop(): Promise<void>;
  status(): SourceStatus;
  /** A phone dismissed this notification; close it on the desktop if this source captured it. */
  closeOnDesktop(id: string): Promise<boolean>;
}
