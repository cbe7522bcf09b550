import net from 'node:net';
import type https from 'node:https';
import type tls from 'node:tls';
import { Duplex } from 'node:stream';
import { normaliseAddress } from './client-address';
import { proxiedAddress, setProxiedAddress, tlsUnderlyingStream } from './proxied-address';
import { parseProxyHeader, proxyPrefix, PROXY_V1_MAX_BYTES, PROXY_V2_MAX_LENGTH } from './proxy-header';

// The PROXY protocol in front of the gateway's TLS server. A connection from a configured
// balancer must open with a valid header (v1 or v2) within a deadline, and its client address
// becomes the one that header names; a connection from anywhere else that opens with a header
// is refused, so no one can claim an address; anything else is served as before. Every
// connection then reaches the TLS server (and the connection gate ahead of it) as a stream
// carrying its client address, with the bytes after the header.

/** Why a connection was refused (a metric label). */
export type ProxyRefusal = 'unlisted_sender' | 'bad_header' | 'header_timeout';

export interface ProxyFrontOptions {
  /** Balancer addresses and CIDR ranges allowed to send a header ("10.0.0.5", "192.168.1.0/24", "::1"). */
  from: readonly string[];
  /** ms a balancer has to send its whole header. */
  headerTimeoutMs: number;
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

/**
 * One TCP connection as the TLS server sees it: the bytes after the header first, then the
 * socket's; `remoteAddress` is the client address (the connection gate reads it). With
 * `sniff`, the first bytes are held until they show whether a PROXY header begins: one does,
 * and the connection is refused instead of served.
 */
class ClientStream extends Duplex {
  readonly remoteAddress: string;
  readonly remoteFamily: string;
  readonly remotePort: number;
  private held: Buffer | undefined;

  constructor(
    private readonly raw: net.Socket,
    head: Buffer,
    client: { address: string; port: number },
    private readonly sniff?: () => void,
  ) {
    super({ allowHalfOpen: false });
    this.remoteAddress = client.address;
    this.remoteFamily = net.isIPv6(client.address) ? 'IPv6' : 'IPv4';
    this.remotePort = client.port;
    setProxiedAddress(this, client.address);
    if (sniff) this.held = Buffer.alloc(0);
    raw.on('data', (chunk: Buffer) => this.receive(chunk));
    raw.on('end', () => this.push(null));
    raw.on('error', () => this.destroy()); // the TLS socket sees the close; no 'error' left without a listener
    raw.on('close', () => this.destroy());
    if (head.length > 0) this.receive(head);
  }

  private receive(chunk: Buffer): void {
    if (this.held) {
      const held = Buffer.concat([this.held, chunk]);
      const prefix = proxyPrefix(held);
      if (prefix === 'more') {
        this.held = held;
        return;
      }
      this.held = undefined;
      if (prefix === 'yes') {
        this.sniff!();
        this.destroy();
        return;
      }
      chunk = held;
    }
    if (!this.push(chunk)) this.raw.pause();
  }

  override _read(): void {
    this.raw.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.raw.write(chunk, done);
  }

  override _final(done: (error?: Error | null) => void): void {
    this.raw.end();
    done();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.raw.destroy();
    done(error);
  }
}

/**
 * Puts the PROXY front ahead of every 'connection' listener `server` has now (the connection
 * gate, the TLS server's own): they hear each accepted connection as a stream carrying its
 * client address, once the front has decided about it. Call after those listeners are added.
 */
export function acceptProxyProtocol(server: https.Server, options: ProxyFrontOptions): void {
  const balancers = balancerList(options.from);
  const downstream = server.listeners('connection') as ((socket: Duplex) => void)[];
  server.removeAllListeners('connection');
  const handOver = (socket: Duplex) => {
    for (const listener of downstream) listener.call(server, socket);
  };
  // Connections still owing their header are idle: a stop closes them with the other idle ones.
  const pending = new Set<net.Socket>();
  const closeIdle = server.closeIdleConnections.bind(server);
  server.closeIdleConnections = () => {
    for (const raw of pending) raw.destroy();
    closeIdle();
  };
  server.on('connection', (raw: net.Socket) => {
    raw.on('error', () => raw.destroy());
    const peer = normaliseAddress(raw.remoteAddress ?? 'unknown');
    const client = { address: peer, port: raw.remotePort ?? 0 };
    if (!isBalancer(balancers, peer)) {
      handOver(new ClientStream(raw, Buffer.alloc(0), client, () => options.onRefused('unlisted_sender', peer, 'a PROXY header from an address not in gateway.proxyProtocol.from')));
      return;
    }
    pending.add(raw);
    readHeader(raw, options.headerTimeoutMs).finally(() => pending.delete(raw)).then(
      ({ source, rest }) => handOver(new ClientStream(raw, rest, source ? { address: normaliseAddress(source.address), port: source.port } : client)),
      (failure: { reason: ProxyRefusal; detail: string }) => {
        if (server.listening) options.onRefused(failure.reason, peer, failure.detail); // not the stop's own closing
        raw.destroy();
      },
    );
  });
  // Each TLS socket carries its connection's client address from here on (client-address.ts reads it).
  server.prependListener('secureConnection', (socket: tls.TLSSocket) => {
    const stream = tlsUnderlyingStream(socket);
    const address = stream && proxiedAddress(stream);
    if (address !== undefined) setProxiedAddress(socket, address);
    else socket.destroy(); // no address to serve it under: never fall back to the balancer's
  });
}

/** Reads a balancer's header off `raw` (paused afterwards), with the bytes that followed it. */
function readHeader(raw: net.Socket, timeoutMs: number): Promise<{ source: { address: string; port: number } | undefined; rest: Buffer }> {
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
      const parsed = parseProxyHeader(received.subarray(0, MAX_HEADER_BYTES));
      if (parsed.kind === 'more') return;
      finish();
      if (parsed.kind === 'invalid') reject({ reason: 'bad_header', detail: parsed.reason });
      else resolve({ source: parsed.source, rest: received.subarray(parsed.length) });
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
