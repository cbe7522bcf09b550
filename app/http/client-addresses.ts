// The client address of each live connection that came through the PROXY front, found again
// from any socket of that connection by its public peer address and port: the raw TCP socket
// the front read the header from and the TLS socket made over it report the same pair, which
// the balancer's end of one live TCP connection never shares with another.

/** What a lookup needs of a socket: its public peer address and port. */
export interface PeerSocket {
  readonly remoteAddress?: string;
  readonly remotePort?: number;
}

/** Looks up the client address of a connection (client-address.ts, the edge). */
export interface ClientAddressLookup {
  clientOf(socket: PeerSocket): string | undefined;
}

/**
 * The address book: one entry per live connection, recorded when the front decides about it
 * and dropped when it closes, so it never holds more than the connections open.
 *
 *   const forget = book.record(raw, '203.0.113.7'); raw.once('close', forget);
 *   book.clientOf(tlsSocket) → '203.0.113.7'
 */
export class ClientAddresses implements ClientAddressLookup {
  private readonly byPeer = new Map<string, { client: string }>();

  /** Records `client` for the connection `socket` belongs to; returns its removal (a no-op once a later connection took the key). */
  record(socket: PeerSocket, client: string): () => void {
    const key = keyOf(socket);
    if (key === undefined) return () => undefined;
    const entry = { client };
    this.byPeer.set(key, entry);
    return () => {
      if (this.byPeer.get(key) === entry) this.byPeer.delete(key);
    };
  }

  clientOf(socket: PeerSocket): string | undefined {
    const key = keyOf(socket);
    return key === undefined ? undefined : this.byPeer.get(key)?.client;
  }

  /** Connections recorded (tests, diagnostics). */
  get size(): number {
    return this.byPeer.size;
  }
}

function keyOf(socket: PeerSocket): string | undefined {
  const { remoteAddress, remotePort } = socket;
  return remoteAddress === undefined || remotePort === undefined ? undefined : `${remoteAddress}|${remotePort}`;
}
