import type { ServerResponse } from 'node:http';
import { WebSocket } from 'ws';

// Every subscriber stream (ntfy json/sse/raw/ws, Gotify /stream) writes through one
// StreamWriter, whatever carries it. The writer is the only thing that touches the transport:
// it owns the stream's timers (keepalive, ping) and stops them all when the stream closes, for
// whatever reason (token revoked, client gone, too slow, shutdown); a write after the close is
// a no-op, and a transport error is heard (never an 'error' with no listener, which stops the
// process). It honours backpressure: past `highWaterBytes` not yet handed to the kernel the
// stream is full, writes are refused (the SubscriberHub reads what it missed from history once
// it drains), and a stream full for `stalledCloseMs` is cut.

/** What carries a stream; `httpTransport` and `wsTransport` adapt the two Beep has. */
export interface StreamTransport {
  /** Sends one chunk; `done` runs once it has left the process, or with the error that stopped it. */
  send(chunk: string, done: (error?: Error | null) => void): void;
  /** Ends gracefully: what is written still goes out. */
  end(): void;
  /** Cuts the connection now. */
  destroy(): void;
  /** Runs once when the connection is gone, closed by either side or failed. */
  onGone(listener: () => void): void;
}

/** An HTTP response body as a stream transport (ntfy json, sse, raw). */
export function httpTransport(res: ServerResponse): StreamTransport {
  res.on('error', () => res.destroy());
  const done = () => res.writableEnded || res.destroyed;
  return {
    send: (chunk, sent) => (done() ? sent(new Error('the stream is closed')) : void res.write(chunk, sent)),
    end: () => void (done() || res.end()),
    destroy: () => void res.destroy(),
    onGone: (listener) => void res.once('close', listener),
  };
}

/** An open WebSocket as a stream transport (ntfy ws, Gotify /stream). */
export function wsTransport(ws: WebSocket): StreamTransport {
  ws.on('error', () => ws.terminate());
  return {
    send: (chunk, sent) => (ws.readyState === WebSocket.OPEN ? ws.send(chunk, sent) : sent(new Error('the stream is closed'))),
    end: () => ws.close(1000),
    destroy: () => ws.terminate(),
    onGone: (listener) => void ws.once('close', listener),
  };
}

/** What one stream may hold and how long it may take. */
export interface StreamWriterLimits {
  /** ms after a graceful close before a connection that has not finished is cut. */
  endGraceMs: number;
  /** bytes written but not yet flushed past which the stream is full (writes refused until it drains). */
  highWaterBytes: number;
  /** ms a stream may stay full before it is cut (a subscriber too slow for too long). */
  stalledCloseMs: number;
  /** Told each time a stream is cut for that (metrics). */
  onStalled?: () => void;
}

/**
 * One subscriber stream's writes and timers.
 *
 *   const writer = new StreamWriter(httpTransport(res), { endGraceMs: 5_000, highWaterBytes: 65_536, stalledCloseMs: 60_000 });
 *   writer.every(45_000, () => writer.write(keepalive()));
 *   if (!writer.write(chunk)) await writer.drained(); // full: wait (false = it closed meanwhile)
 *   writer.onClosed(() => hub.remove(entry));
 *   writer.close(); // token revoked: every timer stops, later writes are no-ops
 */
export class StreamWriter {
  private closed = false;
  /** The transport reported the connection gone: nothing left to end or cut. */
  private gone = false;
  private readonly intervals = new Set<NodeJS.Timeout>();
  private readonly closeListeners: (() => void)[] = [];
  private graceTimer: NodeJS.Timeout | undefined;
  /** Bytes handed to the transport and not yet flushed. */
  private pending = 0;
  private stallTimer: NodeJS.Timeout | undefined;
  private drainWaiters: ((open: boolean) => void)[] = [];

  constructor(
    private readonly transport: StreamTransport,
    private readonly limits: StreamWriterLimits,
  ) {
    transport.onGone(() => {
      this.gone = true;
      if (this.graceTimer) clearTimeout(this.graceTimer);
      this.close();
    });
  }

  /** False once the stream has closed. */
  get isOpen(): boolean {
    return !this.closed;
  }

  /** True while more than `highWaterBytes` wait to be flushed. */
  get full(): boolean {
    return this.pending >= this.limits.highWaterBytes;
  }

  /** Writes one chunk; false when the stream is closed or full (nothing written). */
  write(chunk: string): boolean {
    if (this.closed || this.full) return false;
    const bytes = Buffer.byteLength(chunk);
    this.pending += bytes;
    this.transport.send(chunk, (error) => this.flushed(bytes, error));
    if (this.full && !this.stallTimer) this.stallTimer = setTimeout(() => this.stalled(), this.limits.stalledCloseMs);
    return true;
  }

  /** Resolves true once the stream can take writes again, false once it has closed. */
  drained(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (!this.full) return Promise.resolve(true);
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Runs `fn` every `ms` until the stream closes. */
  every(ms: number, fn: () => void): void {
    if (this.closed) return;
    this.intervals.add(setInterval(fn, ms));
  }

  /** Runs once when the stream closes (at once if it already has). */
  onClosed(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  /** Stops every timer, tells the listeners, and ends the transport ('end': tail flushes, within the grace) or cuts it. */
  close(how: 'end' | 'cut' = 'end'): void {
    if (this.closed) return;
    this.closed = true;
    for (const interval of this.intervals) clearInterval(interval);
    this.intervals.clear();
    if (this.stallTimer) clearTimeout(this.stallTimer);
    for (const waiter of this.drainWaiters.splice(0)) waiter(false);
    for (const listener of this.closeListeners.splice(0)) listener();
    if (this.gone) return;
    if (how === 'cut') return this.transport.destroy();
    this.transport.end();
    this.graceTimer = setTimeout(() => this.transport.destroy(), this.limits.endGraceMs);
    this.graceTimer.unref();
  }

  private stalled(): void {
    this.limits.onStalled?.();
    this.close('cut');
  }

  private flushed(bytes: number, error?: Error | null): void {
    this.pending -= bytes;
    if (error) return this.close('cut');
    if (this.full || this.closed) return;
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    for (const waiter of this.drainWaiters.splice(0)) waiter(true);
  }
}
