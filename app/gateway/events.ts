import type { WireNotification } from '../domain/notification';

// Every socket.io event of the `/device` namespace, typed once; the CLI's `listen` client, the
// tests' phone and the phone web app use the same maps (flipped).

export const DEVICE_NAMESPACE = '/device';

export interface NotificationsPayload {
  items: WireNotification[];
}

export interface AckReply {
  ack: string[];
}

/**
 * `dismiss` names one notification, or (protocol extension, for "clear all") up to the batch size
 * of them in ONE event, so clearing a long list spends one event of the socket's budget.
 */
export type DismissPayload = { id: string } | { ids: string[] };

/** `{ids}` is answered with the ids that were dismissed now (unknown or already dismissed ones are left out). */
export type DismissReply =
  | { ok: true; dismissed?: string[] }
  | { error: { code: string; message: string; max?: number } };

/** Events the daemon sends to a phone. */
export interface ServerToDeviceEvents {
  notifications: (payload: NotificationsPayload, ack: (reply: AckReply) => void) => void;
  dismissed: (payload: { ids: string[] }) => void;
  revoked: (payload: Record<string, never>) => void;
  /**
   * Protocol extension: the recent history a newly paired phone asked for at pairing, sent once
   * on its first connection. Shown, not owed: not acked, not counted as delivered.
   */
  history: (payload: NotificationsPayload) => void;
}

export type TopicsReply = { ok: true; topics: string[] | null } | { error: { code: string; message: string } };

/** `action`: the phone asks the daemon to perform an http action button of a notification. */
export interface ActionPayload {
  /** The notification's id. */
  id: string;
  /** The action's id (its `id` in the notification's `actions`). */
  action: string;
}

/** The answer: the request's status and the start of its answer (`cleared` when `clear` dismissed it), or why not. */
export type ActionReply =
  | { ok: true; status: number; body: string; cleared: boolean; truncated?: true }
  | { error: { code: string; message: string } };

/** Events a phone sends to the daemon. */
export interface DeviceToServerEvents {
  dismiss: (payload: DismissPayload, ack?: (reply: DismissReply) => void) => void;
  /** Protocol extension: choose topics (null = every topic); applies to what is sent from now on. */
  topics: (payload: { topics: string[] | null }, ack?: (reply: TopicsReply) => void) => void;
  /** Protocol extension: perform an http action button (the daemon sends the request; PROTOCOL.md, "Action buttons"). */
  action: (payload: ActionPayload, ack?: (reply: ActionReply) => void) => void;
}

/** What the daemon keeps on each authenticated socket. */
export interface DeviceSocketData {
  deviceId: string;
  /** Cluster mode: the device lease this socket was accepted under. */
  lease?: string;
}
