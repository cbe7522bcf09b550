import http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { BeepError } from '../domain/errors';
import type { Logger } from '../observability/logger';
import { asKnown, errorPayload, type Dialect } from './compat-errors';

// WebSocket endpoints of the compat APIs (ntfy /<topics>/ws, Gotify /stream) on a listener
// that may also carry socket.io: each route claims its own paths; anything else is left to
// socket.io (gateway) or refused (admin).

/** Claims an upgrade (returns true) or leaves it to the next route. */
export type UpgradeRoute = (req: http.IncomingMessage, socket: Duplex, head: Buffer, url: URL) => boolean;

/** Answers a refused upgrade with an HTTP error in the dialect's shape, then closes. */
export function refuseUpgrade(socket: Duplex, dialect: Dialect, error: BeepError): void {
  const body = JSON.stringify(errorPayload(dialect, error));
  const retry = error.retryAfter !== undefined ? `Retry-After: ${error.retryAfter}\r\n` : '';
  socket.end(
    `HTTP/1.1 ${error.status} ${http.STATUS_CODES[error.status]}\r\nContent-Type: application/json\r\n${retry}` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Runs an async upgrade: on failure the client gets the error, never a hung socket. */
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
  prepare().then(
    (onOpen) => wss.handleUpgrade(req, socket, head, onOpen),
    (error) => refuseUpgrade(socket, dialect, asKnown(error, logger, `upgrade ${dialect}`)),
  );
}

/** A WebSocketServer that only does handshakes for the routes (no port, no path of its own). */
export function handshakeServer(maxPayload: number): WebSocketServer {
  return new WebSocketServer({ noServer: true, maxPayload });
}

/**
 * Routes a server's upgrade requests. `guard` may refuse one first (the admin listener's
 * loopback Host check, the gateway's per-IP budget); it is not asked about paths no route
 * claims when `others` is 'leave' (socket.io's own handshakes have their own limits).
 */
export function routeUpgrades(
  server: http.Server,
  routes: UpgradeRoute[],
  options: {
    guard?: (req: http.IncomingMessage) => Promise<BeepError | undefined>;
    others: 'leave' | 'destroy';
    dialectOf: (url: URL) => Dialect;
    /** With 'leave': the paths that belong to someone else (never guarded, never claimed). */
    foreign?: (url: URL) => boolean;
  },
): void {
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://beep.invalid');
    if (options.others === 'leave' && options.foreign?.(url)) return;
    const onError = () => socket.destroy();
    socket.on('error', onError);
    (options.guard?.(req) ?? Promise.resolve(undefined)).then(
      (refused) => {
        socket.off('error', onError);
        if (refused) return refuseUpgrade(socket, options.dialectOf(url), refused);
        for (const route of routes) if (route(req, socket, head, url)) return;
        if (options.others === 'destroy') socket.destroy();
      },
      () => socket.destroy(),
    );
  });
}
