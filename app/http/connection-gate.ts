import type net from 'node:net';
import { normaliseAddress } from './client-address';

// Caps per client address on the connections themselves, not just the requests on them:
// how many may be open at once, and how fast new ones may come (a token bucket). Checked when
// a TCP connection is accepted, before the TLS handshake spends any CPU on it.

export interface ConnectionLimits {
  /** Connections one address may hold open at once. */
  perAddress: number;
  /** New connections per second one address may open, sustained… */
  perSecond: number;
  /** …and at once after a quiet spell. */
  burst: number;
}

/** Why a connection was refused (a metric label). */
export type ConnectionRefusal = 'connection_count' | 'connection_rate';

/** Addresses tracked before idle buckets are swept (a full bucket is the same as none). */
const SWEEP_ABOVE = 10_000;

/**
 * Pure bookkeeping, clock injected.
 *
 *   const gate = new ConnectionGate({ perAddress: 64, perSecond: 10, burst: 100 }, Date.now);
 *   if (gate.admit(ip) !== undefined) socket.destroy(); else socket.once('close', () => gate.release(ip));
 */
export class ConnectionGate {
  private readonly open = new Map<string, number>();
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly limits: ConnectionLimits,
    private readonly now: () => number,
  ) {}

  /** Counts a new connection from `address`, or says why it is refused (and counts nothing). */
  admit(address: string): ConnectionRefusal | undefined {
    const open = this.open.get(address) ?? 0;
    if (open >= this.limits.perAddress) return 'connection_count';
    const now = this.now();
    const bucket = this.refilled(address, now);
    if (bucket.tokens < 1) return 'connection_rate';
    bucket.tokens -= 1;
    this.buckets.set(address, bucket);
    this.open.set(address, open + 1);
    if (this.buckets.size > SWEEP_ABOVE) this.sweep(now);
    return undefined;
  }

  /** A connection admitted earlier has closed. */
  release(address: string): void {
    const open = (this.open.get(address) ?? 0) - 1;
    if (open > 0) this.open.set(address, open);
    else this.open.delete(address);
  }

  /** Connections open from `address` (tests, diagnostics). */
  openFrom(address: string): number {
    return this.open.get(address) ?? 0;
  }

  private refilled(address: string, now: number): { tokens: number; at: number } {
    const bucket = this.buckets.get(address);
    if (!bucket) return { tokens: this.limits.burst, at: now };
    const tokens = Math.min(this.limits.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.limits.perSecond);
    return { tokens, at: now };
  }

  private sweep(now: number): void {
    for (const address of [...this.buckets.keys()]) {
      if (this.refilled(address, now).tokens >= this.limits.burst && !this.open.has(address)) this.buckets.delete(address);
    }
  }
}

/**
 * The gate as one check on an accepted connection and the client address it comes from: counts
 * it (released at its close) and says true, or destroys it and says false. The PROXY front calls
 * it once the address is known (proxy-front.ts).
 */
export function admitConnection(gate: ConnectionGate, onRefused: (reason: ConnectionRefusal, address: string) => void): (socket: net.Socket, address: string) => boolean {
  return (socket, address) => {
    const refused = gate.admit(address);
    if (refused) {
      onRefused(refused, address);
      socket.destroy();
      return false;
    }
    socket.once('close', () => gate.release(address));
    return true;
  };
}

/**
 * Applies the gate to every connection a server accepts, ahead of its own listeners (for a
 * TLS server: before the handshake); a refused connection is destroyed at once.
 */
export function guardConnections(server: net.Server, gate: ConnectionGate, onRefused: (reason: ConnectionRefusal, address: string) => void): void {
  const admit = admitConnection(gate, onRefused);
  server.prependListener('connection', (socket: net.Socket) => void admit(socket, normaliseAddress(socket.remoteAddress ?? 'unknown')));
}
