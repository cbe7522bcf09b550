import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { edgeStamp } from '../http/client-address';
import { asKnown } from '../http/error-answer';
import { refuseUpgrade, type UpgradeRoute } from '../http/listener-edge';
import type { Logger } from '../observability/logger';
import type { Dialect } from './compat-errors';

// WebSocket endpoints of the compat APIs (ntfy /<topics>/ws, Gotify /stream): each route
// claims its own paths from the listener's edge (http/listener-edge.ts), which has already
// checked the target, the Host and the per-IP gate, and catches whatever a route throws.

export type { UpgradeRoute };

/** Runs an async upgrade: on failure the client gets the error in the dialect's shape, never a hung socket. */
export function upgradeWith(
  wss: WebSocketServer,
  dialect: Dialect,
  logger: Logger,
  req: http.IncomingMessage,
  socket: Duplex,
  head: Buffer,
  prepare: () => Promise<(ws: WebSocket) => void>,
): void {
  socket.on('error', () => socket.destroy());
  // Promise.resolve().then: a synchronous throw in `prepare` is answered like an async one.
  Promise.resolve()
    .then(prepare)
    .then(
      (onOpen) =>
        wss.handleUpgrade(req, socket, head, (ws) => {
          edgeStamp(req)?.settle(101);
          // A client's broken frame (or a reset) is an 'error' on the WebSocket: without a
          // listener it would be an uncaught exception. The socket is dropped, nothing else.
          ws.on('error', () => ws.terminate());
          try {
            onOpen(ws);
          } catch (error) {
            logger.error('unexpected error', { context: `open ${dialect}`, error: (error as Error)?.stack ?? String(error) });
            ws.terminate();
          }
        }),
      (error: unknown) => refuseUpgrade(req, socket, dialect, asKnown(error, logger, { context: `upgrade ${dialect}` })),
    )
    .catch((error: unknown) => {
      logger.error('upgrade failed', { context: `upgrade ${dialect}`, error: String(error) });
      socket.destroy();
    });
}

/** A WebSocketServer that only does handshakes for the routes (no port, no path of its own). */
export function handshakeServer(maxPayload: number): WebSocketServer {
  return new WebSocketServer({ noServer: true, maxPayload });
}
