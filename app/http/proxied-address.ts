import type { Duplex } from 'node:stream';

// The client address a PROXY protocol header named for a connection, carried on the connection
// itself: on the stream the TLS server was handed (proxy-front.ts), then copied onto the TLS
// socket once its handshake is done, where client-address.ts reads it for every request and
// upgrade of that connection.

const PROXIED = Symbol('beep.proxiedAddress');

/** Records the address a connection's PROXY header named (or its balancer's own, for LOCAL). */
export function setProxiedAddress(socket: object, address: string): void {
  (socket as Record<symbol, string>)[PROXIED] = address;
}

/** The address recorded on a connection, if it came through the PROXY front. */
export function proxiedAddress(socket: object | null | undefined): string | undefined {
  return socket ? (socket as Record<symbol, string | undefined>)[PROXIED] : undefined;
}

/**
 * The stream a TLS socket was made from, when the TLS server was handed a stream rather than a
 * TCP socket. Node keeps no public link from a TLS socket to it: this reads the TLS handle's
 * `_parentWrap` (the JSStreamSocket Node puts around a stream) and its `stream`. If a Node release
 * moves them, the TLS socket is closed (proxy-front.ts) rather than served under the balancer's
 * address, and every request of test/security/proxy-protocol.test.ts fails.
 */
export function tlsUnderlyingStream(tlsSocket: object): Duplex | undefined {
  const handle = (tlsSocket as { _handle?: { _parentWrap?: { stream?: Duplex } } })._handle;
  return handle?._parentWrap?.stream;
}
