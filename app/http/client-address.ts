import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import type { BeepError } from '../domain/errors';
import type { ClientAddressLookup } from './client-addresses';

// The client address, decided once per request by the listener's edge and read by everything
// after it (budgets, pairing, API-token failures, the audit trail): the same address for the
// same client whichever route or upgrade it used.

/**
 * One spelling per address, so that nothing groups one client under two keys: IPv4-mapped
 * IPv6 (`::ffff:1.2.3.4`, what a dual-stack listener reports for IPv4 peers) becomes the IPv4
 * address, IPv6 is lower-cased; anything that is not an IP address is kept as it is.
 *
 *   normaliseAddress('::FFFF:10.0.0.7') → '10.0.0.7'
 */
export function normaliseAddress(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped && net.isIPv4(mapped[1])) return mapped[1];
  return net.isIPv6(address) ? address.toLowerCase() : address;
}

/**
 * The socket's peer address, normalised; behind the PROXY front (`clients`, proxy-front.ts) the
 * one its balancer's header named for the connection.
 */
export function peerAddress(req: IncomingMessage, clients?: ClientAddressLookup): string {
  const socket = req.socket;
  return normaliseAddress((socket && clients?.clientOf(socket)) ?? socket?.remoteAddress ?? 'unknown');
}

/**
 * The client address: the socket's peer, or with `hops` trusted proxies in front, the entry
 * `hops` places from the right of X-Forwarded-For (what the nearest proxy saw). A forged
 * header cannot move it further left than the proxies allow; an entry that is not an IP
 * address (a broken proxy) is not trusted, and the peer is used. `clients`: see peerAddress.
 */
export function clientAddress(req: IncomingMessage, hops: number, clients?: ClientAddressLookup): string {
  const peer = peerAddress(req, clients);
  if (hops === 0) return peer;
  const header = req.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const chain = [...forwarded, peer];
  const chosen = normaliseAddress(chain[Math.max(0, chain.length - 1 - hops)]);
  return net.isIP(chosen) ? chosen : peer;
}

/** What the edge decided about a request (or upgrade) before any route saw it. */
export interface EdgeStamp {
  /** The client address (trusted proxy hops applied, normalised). */
  readonly address: string;
  /**
   * Reports the final status of the answer (HTTP status, or 101 for an accepted upgrade) and,
   * when the edge's own gate refused it, that refusal; the first report counts.
   */
  settle(status: number, refusal?: BeepError): void;
}

const STAMP = Symbol('beep.edge');

/** Records the edge's decision on the request object itself (it lives exactly as long). */
export function stampRequest(req: IncomingMessage, stamp: EdgeStamp): void {
  (req as unknown as Record<symbol, EdgeStamp>)[STAMP] = stamp;
}

/** The edge's decision, if the request passed an edge. */
export function edgeStamp(req: IncomingMessage): EdgeStamp | undefined {
  return (req as unknown as Record<symbol, EdgeStamp | undefined>)[STAMP];
}

/** The client address the edge decided, else the normalised peer (a request that bypassed the edge). */
export function addressOf(req: IncomingMessage): string {
  return edgeStamp(req)?.address ?? peerAddress(req);
}
