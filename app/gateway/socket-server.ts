import type { IncomingMessage } from 'node:http';
import type https from 'node:https';
import { Server as SocketServer } from 'socket.io';
import type { RateLimiter, ViolationBlocker } from '../auth/rate-limiter';

// The socket.io server of the gateway with its handshake gates: the frame size the protocol
// needs, a short window to authenticate, no cross-origin browsers, and the per-IP budget.

/** bytes of one id in an ack frame: up to 64 characters, two quotes and a comma. */
const ACK_ID_BYTES = 67;
/** bytes of a frame's envelope (packet type, namespace, ack id, `{"ack":[]}`), rounded up generously. */
const FRAME_OVERHEAD_BYTES = 1024;

/**
 * The largest frame a phone ever needs to send: an ack listing a full batch of ids (dismiss
 * frames are smaller). 64 ids → 6 KiB; anything bigger is hostile and closes the connection.
 */
export function maxClientFrameBytes(maxBatch: number): number {
  return Math.ceil((FRAME_OVERHEAD_BYTES + maxBatch * ACK_ID_BYTES) / 1024) * 1024;
}

/** Same-origin (the phone web app served by this gateway) or no Origin at all (native clients). */
export function originAllowed(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

export interface SocketServerOptions {
  maxBatch: number;
  /** ms a connection may take to join /device (authenticate) before it is closed. */
  authTimeoutMs: number;
  perIp: RateLimiter;
  blocker: ViolationBlocker;
  addressOf: (req: IncomingMessage) => string;
  onRefused?: (reason: 'origin' | 'blocked' | 'gateway_ip', address: string) => void;
  onBlocked?: (address: string) => void;
}

export function createSocketServer(server: https.Server, options: SocketServerOptions): SocketServer {
  return new SocketServer(server, {
    serveClient: false,
    maxHttpBufferSize: maxClientFrameBytes(options.maxBatch),
    connectTimeout: options.authTimeoutMs,
    // No `cors` option: socket.io then grants no cross-origin access to polling, and the
    // check below refuses a cross-origin WebSocket too (browsers do not apply CORS to it).
    allowRequest: (req, callback) => {
      const address = options.addressOf(req);
      if (!originAllowed(req)) {
        options.onRefused?.('origin', address);
        return callback('cross-origin handshake refused', false);
      }
      void (async () => {
        if ((await options.blocker.blockedFor(address)) > 0) {
          options.onRefused?.('blocked', address);
          return callback('address blocked', false);
        }
        const decision = await options.perIp.consume(address);
        if (decision.allowed) {
          await options.blocker.success(address);
          return callback(null, true);
        }
        options.onRefused?.('gateway_ip', address);
        if (await options.blocker.violation(address)) options.onBlocked?.(address);
        callback('rate limited', false);
      })().catch(() => callback('unavailable', false));
    },
  });
}
