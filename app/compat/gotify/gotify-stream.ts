import { WebSocket, type WebSocketServer } from 'ws';
import { credentialOf, peerOf } from '../credentials';
import type { TokenGate } from '../ports';
import type { SubscriberHub } from '../subscriber-hub';
import { StreamWriter, wsTransport, type StreamWriterLimits } from '../stream-writer';
import { upgradeWith, type UpgradeRoute } from '../upgrades';
import type { Logger } from '../../observability/logger';
import { toGotifyMessage } from './gotify-message';

// Gotify's GET /stream: a WebSocket for client (subscribe) tokens that receives every new
// message as Gotify's message JSON; a scoped token sees only its topics. Pinged like Gotify.

export interface StreamDeps {
  tokens: TokenGate;
  hub: SubscriberHub;
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
      return (ws) => {
        const writer = new StreamWriter(wsTransport(ws), deps.streams);
        writer.every(deps.pingMs, () => ws.readyState === WebSocket.OPEN && ws.ping());
        deps.hub
          .open(
            {
              tokenId: token.id,
              accepts: (n) => topics === null || (n.topic !== null && topics.has(n.topic)),
              send: (n) => void writer.write(JSON.stringify(toGotifyMessage(n))),
              close: () => writer.close(),
            },
            null,
          )
          .then(
            (remove) => writer.onClosed(remove),
            () => writer.close('cut'),
          );
      };
    });
    return true;
  };
}
