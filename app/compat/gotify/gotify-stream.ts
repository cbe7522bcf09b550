import { WebSocket, type WebSocketServer } from 'ws';
import { credentialOf, peerOf } from '../credentials';
import type { TokenGate } from '../ports';
import type { SubscriberHub } from '../subscriber-hub';
import { upgradeWith, type UpgradeRoute } from '../upgrades';
import type { Logger } from '../../observability/logger';
import { toGotifyMessage } from './gotify-message';

// Gotify's GET /stream: a WebSocket for client (subscribe) tokens that receives every new
// message as Gotify's message JSON; a scoped token sees only its topics. Pinged like Gotify.

export interface StreamDeps {
  tokens: TokenGate;
  hub: SubscriberHub;
  pingMs: number;
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
        const ping = setInterval(() => ws.readyState === WebSocket.OPEN && ws.ping(), deps.pingMs);
        let remove: (() => void) | undefined;
        let closed = false;
        ws.on('close', () => {
          closed = true;
          clearInterval(ping);
          remove?.();
        });
        void deps.hub
          .open(
            {
              tokenId: token.id,
              accepts: (n) => topics === null || (n.topic !== null && topics.has(n.topic)),
              send: (n) => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify(toGotifyMessage(n))),
              close: () => ws.close(1000),
            },
            null,
          )
          .then((r) => {
            remove = r;
            if (closed) r();
          });
      };
    });
    return true;
  };
}
