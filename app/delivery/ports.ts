import type { StoredNotification } from '../domain/notification';
import type { BacklogArm } from './backlog-cursor';

// What delivery needs from the outside, declared here and implemented elsewhere: storage
// (store/delivery-store.ts; [cluster] on Redis) and a device's live socket (gateway/).

/** One priority's progress: every seq of that priority at or below the watermark is settled, and those listed above it. */
export interface PriorityProgress {
  watermark: number;
  ackedAbove: number[];
}

/** A device's stored progress: a watermark per priority (1-5), its dismissal cursor, its topic filter. */
export interface StoredProgress {
  priorities: Record<number, PriorityProgress>;
  dismissCursor: number;
  /** The topics the device chose; null = every topic. */
  topics: string[] | null;
}

/** What one device's progress write holds: the priorities that moved, and the dismissal cursor if it did. */
export interface ProgressWrite {
  deviceId: string;
  priorities: (PriorityProgress & { priority: number })[];
  dismissCursor?: number;
}

/** One row of a backlog page; `open` decrypts it (only the rows a session takes are opened). */
export interface BacklogRow {
  seq: number;
  priority: number;
  id: string;
  open(): StoredNotification;
}

/** What delivery needs from storage. Every method is asynchronous ([cluster] implements it on Redis). */
export interface DeliveryStore {
  /** undefined when the device is unknown or revoked. */
  progress(deviceId: string): Promise<StoredProgress | undefined>;
  /** For each arm, up to `limit` undismissed notifications of its priority above its seq, oldest first. */
  page(arms: BacklogArm[], limit: number): Promise<BacklogRow[]>;
  /** Many devices' progress in one write (coalesced); a dismissal cursor only ever moves forward. */
  saveProgress(writes: ProgressWrite[]): Promise<void>;
  /** Up to `limit` dismissals after the cursor, oldest first. */
  dismissalsAfter(cursor: number, limit: number): Promise<{ seq: number; notificationId: string }[]>;
  /** Undismissed notifications this progress still owes (untopiced ones and those of its topics). */
  countOwed(progress: StoredProgress): Promise<number>;
  touch(deviceId: string, at: Date): Promise<void>;
}

/** A notification as sent: its public id and its wire JSON, built once and shared by every device's frames. */
export interface EncodedNotification {
  readonly id: string;
  /** JSON.stringify of its WireNotification. */
  readonly json: string;
}

/** A live socket of one device, as delivery sees it (gateway/device-namespace.ts adapts socket.io to this). */
export interface DeviceConnection {
  readonly deviceId: string;
  /** One `notifications` frame, `{ items }` on the wire, with its own ack. */
  sendBatch(items: readonly EncodedNotification[], onAck: (reply: unknown) => void): void;
  sendDismissed(ids: string[]): void;
  /** Tell the device it was revoked, then disconnect it. */
  revoke(): void;
  /** Disconnect without telling (replaced by a newer connection, shutdown). */
  close(): void;
}

/** What delivery reports, for metrics, the activity feed and the log. */
export interface DeliveryEvents {
  onBatch?: (size: number, redelivered: number) => void;
  /** A device acknowledged these (each once): latency is `nowMs` minus `acceptedAtMs`. */
  onDelivered?: (items: readonly { acceptedAtMs: number }[], nowMs: number) => void;
  /** A batch left for a device (first send or redelivery); `id` is each notification's public id. */
  onSent?: (deviceId: string, items: readonly { id: string }[]) => void;
  /** A device acknowledged these. */
  onAcked?: (deviceId: string, items: readonly { id: string }[]) => void;
  onError?: (error: unknown, context: string) => void;
}
