import { WebSocket, type WebSocketServer } from 'ws';
import { credentialOf, peerOf } from '../credentials';
import type { SubscriberHistory, TokenGate } from '../ports';
import type { StreamSlots } from '../stream-slots';
import type { Feed, SubscriberHub } from '../subscriber-hub';
import { StreamWriter, wsTransport, type StreamWriterLimits } from '../stream-writer';
import { upgradeWith, type UpgradeRoute } from '../upgrades';
import type { Logger } from '../../observability/logger';
import { toGotifyMessage } from './gotify-message';

// Gotify's GET /stream: a WebSocket for client (subscribe) tokens that receives every new
// message as Gotify's message JSON; a scoped token sees only its topics. Pinged like Gotify.
// A stream that falls behind catches up from history (SubscriberHub) rather than buffering.

export interface StreamDeps {
  tokens: TokenGate;
  hub: SubscriberHub;
  /** Where a stream that fell behind catches up from. */
  history: SubscriberHistory;
  /** Caps on open streams per token and per address. */
  slots: StreamSlots;
  pingMs: number;
  /** How every subscriber stream is written (StreamWriter). */
  streams: StreamWriterLimits;
  listener: string;
  logger: Logger;
}

export function gotifyStream(deps: StreamDeps, wss: WebSocketServer): UpgradeRoute {
  return (req, socket, head, url) => {
    if (url.pathname !== '/stream') return false;
    upgradeWith(wss, 'gotify', deps.logger, req, socket, head, async () => {
      const caller = { ip: peerOf(req), protocol: 'gotify' as const, listener: deps.listener };
      const token = await deps.tokens.authenticate(credentialOf(req), 'subscribe', [], caller);
      const topics = token.topics ? new Set(token.topics) : null;
      // Held until the socket is gone, whether or not the handshake completes.
      socket.once('close', deps.slots.take(token.id, caller.ip));
      return (ws) => {
        const writer = new StreamWriter(wsTransport(ws), deps.streams);
        writer.every(deps.pingMs, () => ws.readyState === WebSocket.OPEN && ws.ping());
        const feed: Feed = {
          tokenId: token.id,
          accepts: (n) => topics === null || (n.topic !== null && topics.has(n.topic)),
          send: (n) => writer.write(JSON.stringify(toGotifyMessage(n))),
          drained: () => writer.drained(),
          history: (afterSeq, limit) => deps.history.after(afterSeq, 0, token.topics, limit),
          close: (error) => {
            if (error) deps.logger.error('subscriber backlog failed', { error: String(error) });
            writer.close(error ? 'cut' : 'end');
          },
        };
        writer.onClosed(deps.hub.open(feed, null));
      };
    });
    return true;
  };
}
