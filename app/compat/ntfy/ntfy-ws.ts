import { WebSocket, type WebSocketServer } from 'ws';
import { credentialOf, peerOf } from '../credentials';
import { isTopicName, parseTopicList } from '../topics';
import { upgradeWith, type UpgradeRoute } from '../upgrades';
import { follow, poll, type EventSink } from './ntfy-feed';
import { NtfyParams } from './ntfy-params';
import type { NtfyDeps } from './ntfy-routes';
import { parseSubscription } from './ntfy-subscription';

// ntfy's WebSocket endpoint, /<topics>/ws: the same JSON messages as /json, one per frame.

export function ntfyWebSocket(deps: NtfyDeps, wss: WebSocketServer): UpgradeRoute {
  return (req, socket, head, url) => {
    const match = /^\/([^/]+)\/ws$/.exec(url.pathname);
    if (!match || !isTopicName(decodeURIComponent(match[1]).split(',')[0])) return false;
    upgradeWith(wss, 'ntfy', deps.logger, req, socket, head, async () => {
      const topics = parseTopicList(decodeURIComponent(match[1]));
      const caller = { ip: peerOf(req), protocol: 'ntfy' as const, listener: deps.listener };
      const token = await deps.tokens.authenticate(credentialOf(req), 'subscribe', topics, caller);
      const sub = parseSubscription(new NtfyParams(req.headers, Object.fromEntries(url.searchParams), true), deps.now());
      return (ws) => {
        const sink: EventSink = {
          write: (m) => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify(m)),
          end: () => ws.close(1000),
        };
        if (sub.poll) return void poll(deps, topics, sub, sink).catch(() => ws.terminate());
        let closed = false;
        let stop: (() => void) | undefined;
        ws.on('close', () => {
          closed = true;
          stop?.();
        });
        follow(deps, topics, sub, token.id, sink).then(
          (s) => {
            stop = s;
            if (closed) s();
          },
          () => ws.terminate(),
        );
      };
    });
    return true;
  };
}
