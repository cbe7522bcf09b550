import type { Namespace, Server, Socket } from 'socket.io';
import { BeepError } from '../domain/errors';
import { ID_PATTERN } from '../ingest/notification-schema';
import { TOPIC_PATTERN } from '../compat/topics';
import type { AccessClaims } from '../auth/token-service';
import type { Delivery, DeviceConnection } from './delivery';
import {
  DEVICE_NAMESPACE,
  type DeviceSocketData,
  type DeviceToServerEvents,
  type DismissReply,
  type ServerToDeviceEvents,
  type TopicsReply,
} from './events';

// The socket.io `/device` namespace: one auth middleware, then the three things a phone does
// (receive + ack, dismiss, be revoked) handed to Delivery.

type DeviceSocket = Socket<DeviceToServerEvents, ServerToDeviceEvents, Record<string, never>, DeviceSocketData>;

export interface DeviceNamespaceDeps {
  verify: (token: unknown) => AccessClaims;
  delivery: Delivery;
  /** Dismisses a notification by public id; resolves false when unknown or already dismissed. */
  dismiss: (id: string, byDevice: string) => Promise<boolean>;
  /** Stores and applies a device's topic filter; resolves false when the device is gone. */
  setTopics: (deviceId: string, topics: string[] | null) => Promise<boolean>;
  onAuthFailure?: (code: string, address: string) => void;
  onError?: (error: unknown, context: string) => void;
}

function adapt(socket: DeviceSocket): DeviceConnection {
  return {
    deviceId: socket.data.deviceId,
    sendBatch: (items, onAck) => socket.emit('notifications', { items }, onAck),
    sendDismissed: (ids) => socket.emit('dismissed', { ids }),
    revoke: () => {
      socket.emit('revoked', {});
      // Let the `revoked` frame leave before the close frame.
      setImmediate(() => socket.disconnect(true));
    },
    close: () => socket.disconnect(true),
  };
}

function failure(code: string, message: string): Error & { data: { code: string } } {
  return Object.assign(new Error(message), { data: { code } });
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
    if (socket.handshake.query && 'token' in socket.handshake.query) {
      deps.onAuthFailure?.('token_in_query', socket.handshake.address);
      return next(failure('token_in_query', 'Send the token in the handshake auth, never in the URL.'));
    }
    try {
      const claims = deps.verify((socket.handshake.auth as { token?: unknown } | undefined)?.token);
      socket.data.deviceId = claims.deviceId;
      next();
    } catch (error) {
      const code = error instanceof BeepError ? error.code : 'invalid_token';
      deps.onAuthFailure?.(code, socket.handshake.address);
      next(failure(code, error instanceof BeepError ? error.message : 'The token is not valid.'));
    }
  });

  nsp.on('connection', (socket) => {
    const connection = adapt(socket);
    socket.on('disconnect', () => deps.delivery.detach(connection.deviceId, connection));
    socket.on('dismiss', (payload, ack) => {
      const reply = typeof ack === 'function' ? ack : () => undefined;
      const id = (payload as { id?: unknown } | null)?.id;
      if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
        return reply({ error: { code: 'invalid_id', message: 'dismiss needs { id } of a notification.' } });
      }
      deps
        .dismiss(id, connection.deviceId)
        .then((found): DismissReply => (found ? { ok: true } : { error: { code: 'not_found', message: 'No such notification, or already dismissed.' } }))
        .catch((error): DismissReply => {
          deps.onError?.(error, 'dismiss');
          return { error: { code: 'unavailable', message: 'The dismissal could not be stored.' } };
        })
        .then(reply);
    });
    socket.on('topics', (payload, ack) => {
      const reply = typeof ack === 'function' ? ack : () => undefined;
      const topics = (payload as { topics?: unknown } | null)?.topics;
      const valid =
        topics === null ||
        (Array.isArray(topics) && topics.length > 0 && topics.length <= 100 && topics.every((t) => typeof t === 'string' && TOPIC_PATTERN.test(t)));
      if (!valid) return reply({ error: { code: 'invalid_topic', message: 'topics needs { topics: [names] } or { topics: null }.' } });
      const chosen = topics === null ? null : [...new Set(topics as string[])];
      deps
        .setTopics(connection.deviceId, chosen)
        .then((found): TopicsReply => (found ? { ok: true, topics: chosen } : { error: { code: 'device_revoked', message: 'This device is gone.' } }))
        .catch((error): TopicsReply => {
          deps.onError?.(error, 'topics');
          return { error: { code: 'unavailable', message: 'The topics could not be stored.' } };
        })
        .then(reply);
    });
    deps.delivery.attach(connection).catch((error) => {
      deps.onError?.(error, 'attach');
      socket.disconnect(true);
    });
  });

  return nsp as unknown as Namespace;
}
