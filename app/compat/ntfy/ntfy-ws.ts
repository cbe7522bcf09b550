import type { WebSocketServer } from 'ws';
import { credentialOf, peerOf } from '../credentials';
import { isTopicName, parseTopicList } from '../topics';
import { StreamWriter, wsTransport } from '../stream-writer';
import { upgradeWith, type UpgradeRoute } from '../upgrades';
import { follow, poll, type EventSink } from './ntfy-feed';
import { NtfyParams } from './ntfy-params';
import { linkerFor, type NtfyDeps } from './ntfy-routes';
import { parseSubscription } from './ntfy-subscription';

// ntfy's WebSocket endpoint, /<topics>/ws: the same JSON messages as /json, one per frame.

/** A percent-decoded path segment; undefined for a malformed escape (then no topic route claims it). */
function decodedSegment(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

export function ntfyWebSocket(deps: NtfyDeps, wss: WebSocketServer): UpgradeRoute {
  return (req, socket, head, url) => {
    const match = /^\/([^/]+)\/ws$/.exec(url.pathname);
    const segment = match ? decodedSegment(match[1]) : undefined;
    if (segment === undefined || !isTopicName(segment.split(',')[0])) return false;
    upgradeWith(wss, 'ntfy', deps.logger, req, socket, head, async () => {
      const topics = parseTopicList(segment);
      const caller = { ip: peerOf(req), protocol: 'ntfy' as const, listener: deps.listener };
      const token = await deps.tokens.authenticate(credentialOf(req), 'subscribe', topics, caller);
      const sub = parseSubscription(new NtfyParams(req.headers, Object.fromEntries(url.searchParams), true), deps.now());
      // Held until the socket is gone, whether or not the handshake completes.
      socket.once('close', deps.slots.take(token.id, caller.ip));
      return (ws) => {
        const writer = new StreamWriter(wsTransport(ws), deps.streams);
        const sink: EventSink = { writer, encode: (m) => JSON.stringify(m), link: linkerFor(deps.attachments, deps.listener, req.headers.host) };
        const started = sub.poll ? poll(deps, topics, sub, sink) : follow(deps, topics, sub, token.id, sink);
        started.catch((error: unknown) => {
          deps.logger.error('subscriber stream failed', { error: String(error) });
          writer.close('cut');
        });
      };
    });
    return true;
  };
}
