import net from 'node:net';
import { normaliseAddress } from './client-address';
import { ClientAddresses } from './client-addresses';
import { parseProxyHeader, proxyPrefix, PROXY_V1_MAX_BYTES, PROXY_V2_MAX_LENGTH } from './proxy-header';

// The PROXY protocol in front of the gateway's TLS server. A connection from a configured
// balancer must open with a valid header (v1 or v2) within a deadline, and its client address
// becomes the one that header names; a connection from anywhere else that opens with a header
// is refused, so no one can claim an address; anything else is served as before. The TLS
// server then takes the TCP socket itself (TLS stays on Node's native handle), and the client
// address is found again by the connection's peer address and port (client-addresses.ts).

/** Why a connection was refused (a metric label). */
export type ProxyRefusal = 'unlisted_sender' | 'bad_header' | 'header_timeout';

export interface ProxyFrontOptions {
  /** Balancer addresses and CIDR ranges allowed to send a header ("10.0.0.5", "192.168.1.0/24", "::1"). */
  from: readonly string[];
  /** ms a balancer has to send its whole header. */
  headerTimeoutMs: number;
  /** ms any other peer has to send its first bytes (the TLS handshake deadline: it had that long before the front). */
  openingTimeoutMs: number;
  onRefused: (reason: ProxyRefusal, peer: string, detail: string) => void;
}

/** The most bytes a header can take: the v2 fixed part and its capped body (v1 is shorter). */
const MAX_HEADER_BYTES = Math.max(PROXY_V1_MAX_BYTES, 16 + PROXY_V2_MAX_LENGTH);

/**
 * The balancers as a BlockList; throws on an entry that is neither an address nor a CIDR range
 * (the config schema checks them first).
 *
 *   balancerList(['10.0.0.5', '192.168.1.0/24']).check('192.168.1.9', 'ipv4') → true
 */
export function balancerList(from: readonly string[]): net.BlockList {
  const list = new net.BlockList();
  for (const entry of from) {
    const [address, bits] = entry.split('/');
    const type = net.isIPv4(address) ? 'ipv4' : net.isIPv6(address) ? 'ipv6' : undefined;
    if (!type) throw new Error(`not an IP address or CIDR range: ${entry}`);
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(bits), type);
  }
  return list;
}

/** Whether a (normalised) peer address is one of the balancers; an IPv4 peer also matches its IPv4-mapped IPv6 entry. */
export function isBalancer(list: net.BlockList, address: string): boolean {
  if (net.isIPv4(address)) return list.check(address, 'ipv4') || list.check(`::ffff:${address}`, 'ipv6');
  return net.isIPv6(address) && list.check(address, 'ipv6');
}

/** Admits an accepted connection under its client address (the connection gate), else destroys it and says false. */
export type AdmitConnection = (raw: net.Socket, client: string) => boolean;

/**
 * The PROXY front of one server. It decides each accepted TCP connection's client address
 * (from a balancer's header, else the peer's own), records it in `addresses` until the
 * connection closes, admits it through the connection gate under that address, and then
 * hands the same TCP socket, paused with the bytes after the header put back, to the
 * server's own 'connection' listeners: the TLS server feeds those bytes to its native TLS
 * handle, and every socket of the connection finds its client address in `addresses`.
 */
export class ProxyFront {
  /** The client address of each live connection, by its peer address and port. */
  readonly addresses = new ClientAddresses();
  private readonly balancers: net.BlockList;
  /** Connections still owing their header or first bytes: a stop closes them (closePending). */
  private readonly pending = new Set<net.Socket>();

  constructor(private readonly options: ProxyFrontOptions) {
    this.balancers = balancerList(options.from);
  }

  /**
   * Puts the front ahead of every 'connection' listener `server` has now (the TLS server's
   * own): they hear a connection once the front has decided about it and `admit` let it in.
   * Call once those listeners are added.
   */
  install(server: net.Server, admit: AdmitConnection): void {
    const downstream = server.listeners('connection') as ((socket: net.Socket) => void)[];
    server.removeAllListeners('connection');
    server.on('connection', (raw: net.Socket) => this.accept(server, raw, admit, downstream));
    // A TLS socket without a recorded address is never served under the balancer's (cannot happen while its connection is open).
    server.prependListener('secureConnection', (socket: net.Socket) => {
      if (this.addresses.clientOf(socket) === undefined) socket.destroy();
    });
  }

  /** Closes the connections still owing their header or first bytes (a stop: they are idle). */
  closePending(): void {
    for (const raw of this.pending) raw.destroy();
  }

  private accept(server: net.Server, raw: net.Socket, admit: AdmitConnection, downstream: ((socket: net.Socket) => void)[]): void {
    raw.on('error', () => raw.destroy());
    const peer = normaliseAddress(raw.remoteAddress ?? 'unknown');
    const decide = (client: string): boolean => {
      raw.once('close', this.addresses.record(raw, client));
      return admit(raw, client);
    };
    const handOver = (rest: Buffer) => {
      if (rest.length > 0) raw.unshift(rest);
      for (const listener of downstream) listener.call(server, raw);
    };
    const refuse = (failure: Failure) => {
      if (server.listening) this.options.onRefused(failure.reason, peer, failure.detail); // not the stop's own closing
      raw.destroy();
    };
    this.pending.add(raw);
    const settled = () => this.pending.delete(raw);
    if (!isBalancer(this.balancers, peer)) {
      // Counted by the gate at once, as without the front; served once its first bytes show no PROXY header.
      if (!decide(peer)) return void settled();
      // A silent or closing peer is just dropped, as a failed handshake is; only a header is a refusal.
      opening(raw, this.options.openingTimeoutMs, sniffPrefix).finally(settled).then(handOver, (failure: Failure) =>
        failure.reason === 'unlisted_sender' ? refuse(failure) : raw.destroy(),
      );
      return;
    }
    opening(raw, this.options.headerTimeoutMs, readHeader).finally(settled).then(({ source, rest }) => {
      if (decide(source ? normaliseAddress(source.address) : peer)) handOver(rest);
    }, refuse);
  }
}

type Failure = { reason: ProxyRefusal; detail: string };
/** What reading a connection's opening bytes came to: more needed, a failure, or a result with the bytes after it. */
type Opening<T> = { kind: 'more' } | { kind: 'failed'; failure: Failure } | { kind: 'done'; value: T };

/** An unlisted peer's opening: the bytes it sent once they show no PROXY header begins. */
function sniffPrefix(received: Buffer): Opening<Buffer> {
  const prefix = proxyPrefix(received);
  if (prefix === 'more') return { kind: 'more' };
  if (prefix === 'yes') return { kind: 'failed', failure: { reason: 'unlisted_sender', detail: 'a PROXY header from an address not in gateway.proxyProtocol.from' } };
  return { kind: 'done', value: received };
}

/** A balancer's opening: its header (the source it names; none for LOCAL/UNKNOWN) and the bytes after it. */
function readHeader(received: Buffer): Opening<{ source: { address: string; port: number } | undefined; rest: Buffer }> {
  const parsed = parseProxyHeader(received.subarray(0, MAX_HEADER_BYTES));
  if (parsed.kind === 'more') return { kind: 'more' };
  if (parsed.kind === 'invalid') return { kind: 'failed', failure: { reason: 'bad_header', detail: parsed.reason } };
  return { kind: 'done', value: { source: parsed.source, rest: received.subarray(parsed.length) } };
}

/**
 * Reads `raw`'s first bytes with a 'data' listener until `read` decides (within `timeoutMs`),
 * then leaves `raw` paused with no listener of the front's, so that the bytes it resolves with
 * can be put back before the TLS server takes the socket.
 */
function opening<T>(raw: net.Socket, timeoutMs: number, read: (received: Buffer) => Opening<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const finish = () => {
      raw.off('data', onData);
      raw.off('close', onClose);
      raw.setTimeout(0);
      raw.pause();
    };
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const result = read(received);
      if (result.kind === 'more') return;
      finish();
      if (result.kind === 'failed') reject(result.failure);
      else resolve(result.value);
    };
    const onClose = () => {
      finish();
      reject({ reason: 'bad_header', detail: 'closed before a whole PROXY header' });
    };
    raw.on('data', onData);
    raw.once('close', onClose);
    raw.setTimeout(timeoutMs, () => {
      finish();
      reject({ reason: 'header_timeout', detail: `no whole PROXY header within ${timeoutMs} ms` });
    });
  });
}
