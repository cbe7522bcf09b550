import type { NextFunction, Request, Response } from 'express';

// A cluster's phone web app is served by every node, each on its own origin: a page loaded from
// one node must be able to reach the others when its own is down (PROTOCOL.md §4, "Several
// gateways"). These are the three places a browser checks, opened to the cluster's gateway
// origins and nothing else: the page's connect-src, socket.io's handshake Origin check
// (gateway/socket-server.ts) and CORS on the token refresh.

/** The origins (`https://host:port`) of the cluster's gateways now; empty on a single PC. */
export type PeerOrigins = () => ReadonlySet<string>;

/** s a browser may keep a refresh preflight's answer. */
const PREFLIGHT_MAX_AGE_SEC = 600;

/** Whether `origin` (a request's Origin header) is one of the cluster's gateways. */
export function isPeerOrigin(origin: string | undefined, peers: PeerOrigins | undefined): origin is string {
  return origin !== undefined && peers !== undefined && peers().has(origin);
}

/** connect-src sources for the cluster's gateways (https and wss of each), for helmet's CSP. */
export function peerConnectSources(peers: PeerOrigins | undefined): () => string {
  return () => {
    if (!peers) return '';
    // Origins come from the node registry, written by Beep nodes as URL origins: no quote, space or ';'.
    return [...peers()]
      .filter((o) => /^https:\/\/[A-Za-z0-9.:[\]-]+$/.test(o))
      .flatMap((o) => [o, `wss://${o.slice('https://'.length)}`])
      .join(' ');
  };
}

/**
 * CORS for `POST /api/v1/token` from another node's page: the refresh token travels in the body,
 * never in a cookie, so no credentials mode; any other origin gets no grant (the browser refuses).
 */
export function peerCors(peers: PeerOrigins | undefined) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const origin = req.headers.origin;
    res.vary('Origin');
    if (!isPeerOrigin(origin, peers)) return next();
    res.setHeader('Access-Control-Allow-Origin', origin);
    if (req.method !== 'OPTIONS') return next();
    res.setHeader('Access-Control-Allow-Methods', 'POST');
    res.setHeader('Access-Control-Allow-Headers', 'content-type');
    res.setHeader('Access-Control-Max-Age', String(PREFLIGHT_MAX_AGE_SEC));
    res.status(204).end();
  };
}
