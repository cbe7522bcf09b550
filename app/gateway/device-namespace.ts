import type { Namespace, Server, Socket } from 'socket.io';
import { BeepError } from '../domain/errors';
import { ID_PATTERN } from '../ingest/notification-schema';
import { RESERVED_TOPICS, TOPIC_PATTERN } from '../compat/topics';
import type { AccessClaims } from '../auth/token-service';
import type { WireNotification } from '../domain/notification';
import type { RateLimiter } from '../auth/rate-limiter';
import type { EventThrottle } from './event-throttle';
import { NotificationsFrame } from './frame-parser';
import type { EngineConnection } from './socket-server';
import type { Delivery } from '../delivery/delivery';
import type { DeviceConnection } from '../delivery/ports';
import {
  type ActionReply,
  DEVICE_NAMESPACE,
  type DeviceSocketData,
  type DeviceToServerEvents,
  type DismissReply,
  type NotificationsPayload,
  type ServerToDeviceEvents,
  type TopicsReply,
} from './events';

// The socket.io `/device` namespace: one auth middleware, then each authenticated socket
// adapted to a DeviceConnection and handed to delivery/ (receive + ack, be revoked), and the
// phone's own events (dismiss, topics) passed on.

type DeviceSocket = Socket<DeviceToServerEvents, ServerToDeviceEvents, Record<string, never>, DeviceSocketData>;

export interface DeviceNamespaceDeps {
  verify: (token: unknown) => Promise<AccessClaims>;
  delivery: Delivery;
  /** Dismisses a notification by public id; resolves false when unknown or already dismissed. */
  dismiss: (id: string, byDevice: string) => Promise<boolean>;
  /** Ids one `dismiss {ids}` may carry: the batch size, so the frame fits the socket's frame limit. */
  maxDismissIds: number;
  /** The recent history a newly paired device asked for (empty once sent, or when none is owed). */
  history?: (deviceId: string) => Promise<WireNotification[]>;
  /** Stores and applies a device's topic filter; resolves false when the device is gone. */
  setTopics: (deviceId: string, topics: string[] | null) => Promise<boolean>;
  /** Performs an http action button for the device (absent: the event answers not_found). */
  performAction?: (deviceId: string, notificationId: string, actionId: string) => Promise<ActionReply>;
  /** A fresh flood guard for each socket. */
  throttle: () => EventThrottle;
  /** The per-device budget, spent by every handshake and event of the device's sockets. */
  perDevice: RateLimiter;
  /** The client address of a handshake (honours the trusted proxy hops). */
  addressOf: (socket: Socket) => string;
  onAuthFailure?: (code: string, address: string) => void;
  onLimited?: (scope: 'device' | 'socket_flood', deviceId: string) => void;
  onFloodDisconnect?: (deviceId: string, address: string) => void;
  onError?: (error: unknown, context: string) => void;
  /** Gives each connection and each dismissal an event id for the log lines they cause. */
  runEvent?: <T>(fn: () => T) => T;
  /** Exempts the socket's connection from the auth deadline (socket-server.ts) once it authenticated. */
  authenticated?: (conn: EngineConnection) => void;
  /** Cluster mode: takes the device's lease before its progress is read (rejects: refused retryably); resolves with what `release` gives back. */
  claim?: (deviceId: string, close: () => void) => Promise<string>;
  /** Cluster mode: the socket closed; gives its lease up after its last progress write. */
  release?: (deviceId: string, lease: string) => void;
}

const RATE_LIMITED = { error: { code: 'rate_limited', message: 'Too many events; slow down.' } };

function adapt(socket: DeviceSocket): DeviceConnection {
  return {
    deviceId: socket.data.deviceId,
    // Encode once: the frame carries the items' JSON as built once; the socket.io parser splices it (frame-parser.ts).
    sendBatch: (items, onAck) => socket.emit('notifications', new NotificationsFrame(items) as unknown as NotificationsPayload, onAck),
    sendDismissed: (ids) => socket.emit('dismissed', { ids }),
    revoke: () => {
      socket.emit('revoked', {});
      // Let the `revoked` frame leave before the close frame.
      setImmediate(() => socket.disconnect(true));
    },
    close: () => socket.disconnect(true),
  };
}

/** `{id}` or `{ids: [..]}` (1 to `max` distinct ids), or the error to answer with. */
export function dismissRequest(payload: unknown, max: number): { ids: string[]; many: boolean } | Extract<DismissReply, { error: unknown }> {
  const { id, ids } = (payload ?? {}) as { id?: unknown; ids?: unknown };
  if (ids === undefined) {
    if (typeof id === 'string' && ID_PATTERN.test(id)) return { ids: [id], many: false };
    return { error: { code: 'invalid_id', message: 'dismiss needs { id } of a notification, or { ids: [..] }.' } };
  }
  if (!Array.isArray(ids) || ids.length === 0 || !ids.every((i) => typeof i === 'string' && ID_PATTERN.test(i))) {
    return { error: { code: 'invalid_id', message: 'dismiss { ids } needs a non-empty list of notification ids.' } };
  }
  if (ids.length > max) return { error: { code: 'too_many_ids', message: `dismiss { ids } takes at most ${max} ids.`, max } };
  return { ids: [...new Set(ids as string[])], many: true };
}

/** Dismisses each id (the writer groups them into one commit); resolves with those dismissed now. */
async function dismissAll(ids: string[], deviceId: string, deps: DeviceNamespaceDeps): Promise<string[]> {
  const found = await Promise.all(ids.map((id) => deps.dismiss(id, deviceId)));
  return ids.filter((_, i) => found[i]);
}

function failure(code: string, message: string): Error & { data: { code: string } } {
  return Object.assign(new Error(message), { data: { code } });
}

/** Every incoming event passes the socket's token bucket and the device's budget first. */
function guardEvents(socket: DeviceSocket, deps: DeviceNamespaceDeps): void {
  const throttle = deps.throttle();
  const deviceId = socket.data.deviceId;
  const refuse = (packet: unknown[], scope: 'device' | 'socket_flood') => {
    deps.onLimited?.(scope, deviceId);
    const ack = packet[packet.length - 1];
    if (typeof ack === 'function') (ack as (r: unknown) => void)(RATE_LIMITED);
  };
  socket.use((packet, next) => {
    const admission = throttle.admit();
    if (admission === 'disconnect') {
      deps.onFloodDisconnect?.(deviceId, deps.addressOf(socket as unknown as Socket));
      socket.disconnect(true);
      return;
    }
    if (admission === 'drop') return refuse(packet, 'socket_flood');
    deps.perDevice.consume(deviceId).then((d) => (d.allowed ? next() : refuse(packet, 'device')), next);
  });
}

/** Wires `/device` onto the socket.io server. */
export function attachDeviceNamespace(io: Server, deps: DeviceNamespaceDeps): Namespace {
  const nsp = io.of(DEVICE_NAMESPACE) as unknown as Namespace<
    DeviceToServerEvents,
    ServerToDeviceEvents,
    Record<string, never>,
    DeviceSocketData
  >;

  nsp.use((socket, next) => {
    const address = deps.addressOf(socket as unknown as Socket);
    if (socket.handshake.query && 'token' in socket.handshake.query) {
      deps.onAuthFailure?.('token_in_query', address);
      return next(failure('token_in_query', 'Send the token in the handshake auth, never in the URL.'));
    }
    deps.verify((socket.handshake.auth as { token?: unknown } | undefined)?.token).then(
      (claims) => {
        socket.data.deviceId = claims.deviceId;
        deps.perDevice.consume(socket.data.deviceId).then((d) => {
          if (!d.allowed) {
            deps.onLimited?.('device', socket.data.deviceId);
            return next(failure('rate_limited', `Too many connections; retry in ${d.resetSec} s.`));
          }
          if (!deps.claim) return next();
          deps.claim(socket.data.deviceId, () => socket.disconnect(true)).then(
            (lease) => {
              socket.data.lease = lease;
              next();
            },
            (error: unknown) => {
              deps.onError?.(error, 'lease');
              // The shared state is out of reach: the phone retries later; never a sign-out.
              next(failure('unavailable', 'The server cannot reach its shared state right now; retry shortly.'));
            },
          );
        }, next);
      },
      (error: unknown) => {
        // Only a BeepError is a verdict on the token; anything else is the device lookup failing
        // (the store or Redis out of reach): retryable, never a sign-out.
        if (!(error instanceof BeepError)) {
          deps.onError?.(error, 'token check');
          return next(failure('unavailable', 'The server cannot check the token right now; retry shortly.'));
        }
        deps.onAuthFailure?.(error.code, address);
        next(failure(error.code, error.message));
      },
    );
  });

  const event = deps.runEvent ?? ((fn) => fn());
  nsp.on('connection', (socket) => event(() => {
    const connection = adapt(socket);
    deps.authenticated?.(socket.conn as unknown as EngineConnection);
    guardEvents(socket, deps);
    socket.on('disconnect', () => {
      deps.delivery.detach(connection.deviceId, connection);
      if (socket.data.lease !== undefined) deps.release?.(connection.deviceId, socket.data.lease);
      // The connection's only authenticated socket left: nothing else may linger on it.
      socket.conn.close();
    });
    socket.on('dismiss', (payload, ack) => event(() => {
      const reply = typeof ack === 'function' ? ack : () => undefined;
      const parsed = dismissRequest(payload, deps.maxDismissIds);
      if ('error' in parsed) return reply(parsed);
      dismissAll(parsed.ids, connection.deviceId, deps)
        .then((dismissed): DismissReply => {
          if (parsed.many) return { ok: true, dismissed };
          return dismissed.length ? { ok: true } : { error: { code: 'not_found', message: 'No such notification, or already dismissed.' } };
        })
        .catch((error): DismissReply => {
          deps.onError?.(error, 'dismiss');
          return { error: { code: 'unavailable', message: 'The dismissal could not be stored.' } };
        })
        .then(reply);
    }));
    socket.on('topics', (payload, ack) => event(() => {
      const reply = typeof ack === 'function' ? ack : () => undefined;
      const topics = (payload as { topics?: unknown } | null)?.topics;
      const valid =
        topics === null ||
        (Array.isArray(topics) && topics.length > 0 && topics.length <= 100 && topics.every((t) => typeof t === 'string' && TOPIC_PATTERN.test(t)));
      if (!valid) return reply({ error: { code: 'invalid_topic', message: 'topics needs { topics: [names] } or { topics: null }.' } });
      const reserved = (topics as string[] | null)?.find((t) => RESERVED_TOPICS.has(t.toLowerCase()));
      if (reserved) return reply({ error: { code: 'reserved_topic', message: `"${reserved}" is reserved for Beep's own routes.` } });
      const chosen = topics === null ? null : [...new Set(topics as string[])];
      deps
        .setTopics(connection.deviceId, chosen)
        .then((found): TopicsReply => (found ? { ok: true, topics: chosen } : { error: { code: 'device_revoked', message: 'This device is gone.' } }))
        .catch((error): TopicsReply => {
          deps.onError?.(error, 'topics');
          return { error: { code: 'unavailable', message: 'The topics could not be stored.' } };
        })
        .then(reply);
    }));
    socket.on('action', (payload, ack) => event(() => {
      const reply = typeof ack === 'function' ? ack : () => undefined;
      const { id, action } = (payload ?? {}) as { id?: unknown; action?: unknown };
      if (typeof id !== 'string' || !ID_PATTERN.test(id) || typeof action !== 'string' || !ID_PATTERN.test(action)) {
        return reply({ error: { code: 'invalid_id', message: 'action needs { id, action }: the notification\'s id and the action\'s id.' } });
      }
      if (!deps.performAction) return reply({ error: { code: 'not_found', message: 'No such http action.' } });
      deps
        .performAction(connection.deviceId, id, action)
        .catch((error): ActionReply => {
          deps.onError?.(error, 'action');
          return { error: { code: 'internal', message: 'The action could not be performed.' } };
        })
        .then(reply);
    }));
    deps.delivery.attach(connection).catch((error) => {
      deps.onError?.(error, 'attach');
      socket.disconnect(true);
    });
    // Shown, not owed: no ack, not counted as delivered, never resent (taken once from the store).
    deps.history?.(connection.deviceId).then(
      (items) => items.length > 0 && socket.connected && socket.emit('history', { items }),
      (error) => deps.onError?.(error, 'history'),
    );
  }));

  return nsp as unknown as Namespace;
}
