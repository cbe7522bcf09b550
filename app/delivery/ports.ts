import type { StoredNotification } from '../domain/notification';

// What delivery needs from the outside, declared here and implemented elsewhere: storage
// (store/delivery-store.ts; [cluster] on Redis) and a device's live socket (gateway/).

/** A device's stored progress: its watermark, the seqs acknowledged above it, its dismissal cursor. */
export interface StoredProgress {
  watermark: number;
  ackedAbove: number[];
  dismissCursor: number;
}

/** What delivery needs from storage. Every method is asynchronous ([cluster] implements it on Redis). */
export interface DeliveryStore {
  /** undefined when the device is unknown or revoked. */
  progress(deviceId: string): Promise<StoredProgress | undefined>;
  /** The topics the device chose; null = every topic. */
  deviceTopics(deviceId: string): Promise<string[] | null>;
  pendingAbove(watermark: number): Promise<StoredNotification[]>;
  saveProgress(deviceId: string, compute: () => { watermark: number; ackedAbove: number[] }): Promise<void>;
  dismissalsAfter(cursor: number): Promise<{ seq: number; notificationId: string }[]>;
  saveDismissCursor(deviceId: string, cursor: number): Promise<void>;
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
  onDelivered?: (latenciesSec: number[]) => void;
  /** A batch left for a device (first send or redelivery), by public ids. */
  onSent?: (deviceId: string, ids: string[]) => void;
  /** A device acknowledged these public ids. */
  onAcked?: (deviceId: string, ids: string[]) => void;
  onError?: (error: unknown, context: string) => void;
}
