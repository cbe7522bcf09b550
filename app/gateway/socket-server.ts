import http, { type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Server as SocketServer, type ServerOptions } from 'socket.io';
import { BeepError } from '../domain/errors';
import { edgeStamp } from '../http/client-address';
import type { UpgradeRoute } from '../http/listener-edge';
import { frameParser } from './frame-parser';

// The socket.io server of the gateway with its handshake gates: WebSocket only (no
// long-polling), the frame size the protocol needs, no cross-origin browsers, and a deadline
// to authenticate that holds for every connection: the main namespace accepts no socket, and a
// connection that has not joined `/device` (authenticated) within the deadline is closed, as
// is one whose `/device` socket has left. The per-IP gate is the gateway edge's, applied to
// the upgrade before socket.io sees it (http/listener-edge.ts).

/** bytes of one id in an ack frame: up to 64 characters, two quotes and a comma. */
const ACK_ID_BYTES = 67;
/** bytes of a frame's envelope (packet type, namespace, ack id, `{"ack":[]}`), rounded up generously. */
const FRAME_OVERHEAD_BYTES = 1024;
/** The engine.io path the clients connect to (socket.io's default, with its trailing slash). */
export const SOCKET_IO_PATH = '/socket.io/';

/**
 * The largest frame a phone ever needs to send: an ack listing a full batch of ids (dismiss
 * frames are smaller). 64 ids → 6 KiB; anything bigger is hostile and closes the connection.
 */
export function maxClientFrameBytes(maxBatch: number): number {
  return Math.ceil((FRAME_OVERHEAD_BYTES + maxBatch * ACK_ID_BYTES) / 1024) * 1024;
}

/** Same-origin (the phone web app served by this gateway), another gateway of the cluster, or no Origin at all (native clients). */
export function originAllowed(req: IncomingMessage, peers?: () => ReadonlySet<string>): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host || (peers !== undefined && peers().has(origin));
  } catch {
    return false;
  }
}

/** An engine.io connection, as far as the deadline needs it. */
export interface EngineConnection {
  readonly request: IncomingMessage;
  close(): void;
  once(event: 'close', listener: () => void): unknown;
  off(event: 'close', listener: () => void): unknown;
}

export interface SocketServerOptions {
  maxBatch: number;
  /** ms a connection may take to join /device (authenticate) before it is closed. */
  authTimeoutMs: number;
  onRefused?: (reason: 'origin', address: string) => void;
  /** Cluster mode: the origins of the cluster's gateways, whose pages may connect here too. */
  peerOrigins?: () => ReadonlySet<string>;
  /** Cluster mode: socket.io's Redis Streams adapter (control events between the nodes). */
  adapter?: ServerOptions['adapter'];
}

/** socket.io on the gateway, and the mark `/device` sets on a connection once it authenticated. */
export interface GatewaySockets {
  io: SocketServer;
  /** Exempts a connection from the auth deadline (its `/device` socket authenticated). */
  authenticated: (conn: EngineConnection) => void;
  /** The gateway edge's route for socket.io's WebSocket handshakes (a cross-origin one is refused there, 403 forbidden_origin). */
  route: UpgradeRoute;
}

const refusal = (code: string, message: string) => Object.assign(new Error(message), { data: { code } });

/** engine.io's handshake error codes; FORBIDDEN (refused by allowRequest) is answered 403, the rest 400. */
const ENGINE_FORBIDDEN = 4;

export function createSocketServer(options: SocketServerOptions): GatewaySockets {
  // socket.io gets an HTTP server of its own that never listens: the gateway's edge is the
  // only 'upgrade' listener of the real one, and hands socket.io's handshakes to the engine
  // after its checks (target, address, per-IP gate); no HTTP request reaches engine.io.
  const io = new SocketServer(new http.Server(), {
    serveClient: false,
    transports: ['websocket'],
    // Encode once: `notifications` frames are spliced from each item's JSON (same bytes as the default parser).
    parser: frameParser,
    maxHttpBufferSize: maxClientFrameBytes(options.maxBatch),
    connectTimeout: options.authTimeoutMs,
    // No `cors` option and no polling. The route below refuses a cross-origin WebSocket
    // (browsers do not apply CORS to it) in Beep's error shape; this is the engine's backstop.
    allowRequest: (req, callback) => {
      const allowed = originAllowed(req, options.peerOrigins);
      callback(allowed ? null : 'cross-origin handshake refused', allowed);
    },
    ...(options.adapter ? { adapter: options.adapter } : {}),
  });
  // The edge's accounting hears how each handshake ended.
  io.engine.on('connection', (conn: EngineConnection) => edgeStamp(conn.request)?.settle(101));
  io.engine.on('connection_error', (e: { req: IncomingMessage; code: number }) => edgeStamp(e.req)?.settle(e.code === ENGINE_FORBIDDEN ? 403 : 400));
  // Only /device accepts sockets: the main namespace has no auth, so it refuses every connect.
  io.use((_socket, next) => next(refusal('namespace_refused', 'Connect to the /device namespace.')));
  const route: UpgradeRoute = (req: IncomingMessage, socket: Duplex, head: Buffer, url: URL) => {
    if (url.pathname !== SOCKET_IO_PATH) return false;
    if (!originAllowed(req, options.peerOrigins)) {
      options.onRefused?.('origin', edgeStamp(req)?.address ?? 'unknown');
      throw new BeepError('forbidden_origin');
    }
    io.engine.handleUpgrade(req, socket, head);
    return true;
  };
  return { io, authenticated: enforceAuthDeadline(io, options.authTimeoutMs), route };
}

/**
 * Closes every engine.io connection not marked authenticated within `ms` of opening, whatever
 * namespaces it joined or left (socket.io's own connect timeout stops at the first namespace).
 * Marking it cancels its deadline and lets go of the timer and the listener, which a connection
 * kept for its whole life before (a fired timer, two closures and a listener per phone).
 */
function enforceAuthDeadline(io: SocketServer, ms: number): (conn: EngineConnection) => void {
  const deadlines = new WeakMap<EngineConnection, () => void>();
  io.engine.on('connection', (conn: EngineConnection) => {
    const timer = setTimeout(() => conn.close(), ms);
    const cancel = () => {
      clearTimeout(timer);
      conn.off('close', cancel);
      deadlines.delete(conn);
    };
    conn.once('close', cancel);
    deadlines.set(conn, cancel);
  });
  return (conn) => deadlines.get(conn)?.();
}
