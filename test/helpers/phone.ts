import { io, type Socket } from 'socket.io-client';
import type { WireNotification } from '../../app/domain/notification';
import { DEVICE_NAMESPACE, type AckReply, type DeviceToServerEvents, type ServerToDeviceEvents } from '../../app/gateway/events';
import type { RunningDaemon } from './daemon';

// A phone as the protocol sees it: pairs over HTTPS, connects to /device over WSS with the
// CA pinned, records every batch, and acks (or not) as a test tells it to.

export interface Credentials {
  deviceId: string;
  accessToken: string;
  refreshToken: string;
  accessExpiresIn: number;
}

/** Creates a code on admin (with `codeBody`, e.g. {history: false}) and exchanges it on the gateway (with `extra`, e.g. {history: true}). */
export async function pair(daemon: RunningDaemon, name = 'test phone', extra: Record<string, unknown> = {}, codeBody?: Record<string, unknown>): Promise<Credentials> {
  const code = await daemon.admin('POST', '/api/v1/pairings', codeBody);
  if (code.status !== 201) throw new Error(`pairings answered ${code.status}: ${code.text}`);
  const paired = await daemon.gateway<Credentials>('POST', '/api/v1/pair', { code: code.body.code, name, platform: 'test', ...extra });
  if (paired.status !== 201) throw new Error(`pair answered ${paired.status}: ${paired.text}`);
  return paired.body;
}

export type AckPolicy = 'all' | 'none' | ((items: WireNotification[]) => string[] | null);

export class Phone {
  socket?: Socket<ServerToDeviceEvents, DeviceToServerEvents>;
  /** Every item in arrival order, duplicates included. */
  readonly arrivals: WireNotification[] = [];
  readonly batches: WireNotification[][] = [];
  readonly unique = new Map<string, WireNotification>();
  readonly dismissed: string[] = [];
  /** Items of `history` events (recent history asked for at pairing), in arrival order. */
  readonly history: WireNotification[][] = [];
  /** What the phone shows now: updates (`replaces`) swap in place, dismissals remove. */
  readonly current = new Map<string, WireNotification>();
  revoked = false;
  disconnectReason?: string;
  ackPolicy: AckPolicy = 'all';
  /** Held ack callbacks, for tests that ack late. */
  readonly held: { items: WireNotification[]; ack: (r: AckReply) => void }[] = [];

  constructor(public credentials: Credentials) {}

  static async paired(daemon: RunningDaemon, name?: string): Promise<Phone> {
    return new Phone(await pair(daemon, name));
  }

  /** Connects and resolves on `connect`; rejects with the connect_error's data.code. */
  connect(daemon: RunningDaemon, token = this.credentials.accessToken, extra: Record<string, unknown> = {}): Promise<void> {
    this.disconnectReason = undefined;
    const socket: Socket<ServerToDeviceEvents, DeviceToServerEvents> = io(`${daemon.gatewayUrl}${DEVICE_NAMESPACE}`, {
      ca: daemon.caPem,
      transports: ['websocket'],
      auth: { token },
      reconnection: false,
      forceNew: true,
      ...extra,
    });
    this.socket = socket;
    socket.on('notifications', ({ items }, ack) => {
      this.batches.push(items);
      for (const n of items) {
        this.arrivals.push(n);
        if (!this.unique.has(n.id)) this.unique.set(n.id, n);
        if (n.replaces) this.current.delete(n.replaces);
        if (!this.dismissed.includes(n.id)) this.current.set(n.id, n);
      }
      const policy = this.ackPolicy;
      if (policy === 'all') ack({ ack: items.map((n) => n.id) });
      else if (policy === 'none') this.held.push({ items, ack });
      else {
        const ids = policy(items);
        if (ids) ack({ ack: ids });
        else this.held.push({ items, ack });
      }
    });
    socket.on('dismissed', ({ ids }) => {
      this.dismissed.push(...ids);
      for (const id of ids) this.current.delete(id);
    });
    socket.on('revoked', () => (this.revoked = true));
    socket.on('history', ({ items }) => this.history.push(items));
    socket.on('disconnect', (reason) => (this.disconnectReason = reason));
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (error) => {
        socket.close();
        reject(Object.assign(new Error(error.message), { code: (error as Error & { data?: { code?: string } }).data?.code }));
      });
    });
  }

  disconnect(): void {
    this.socket?.close();
  }

  dismiss(id: string): Promise<unknown> {
    return new Promise((resolve) => this.socket!.emit('dismiss', { id }, resolve));
  }

  /**
   * Before asserting that something did NOT arrive: posts a lowest-priority sentinel after
   * everything else and waits for it. Whatever the daemon had queued for this phone before it
   * (every priority is at or above 1) has left by the time the sentinel arrives. Returns its id.
   */
  async sentinel(daemon: RunningDaemon, timeoutMs = 15_000): Promise<string> {
    const res = await daemon.admin('POST', '/api/v1/notifications', { title: 'sentinel', priority: 1 });
    if (res.status !== 202) throw new Error(`sentinel refused: ${res.status} ${res.text}`);
    const id = res.body.id as string;
    await this.waitFor(() => this.unique.has(id), timeoutMs, 'the sentinel');
    return id;
  }

  /** What arrived with this body (bodies are unique per test), waited for. */
  async withBody(body: string, timeoutMs = 15_000): Promise<WireNotification> {
    const find = () => [...this.unique.values()].find((n) => n.body === body);
    await this.waitFor(() => find() !== undefined, timeoutMs, `"${body}" on the phone`);
    return find()!;
  }

  /** Polls until the predicate holds. */
  async waitFor(predicate: () => boolean, timeoutMs = 15_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (have ${this.unique.size} unique, ${this.arrivals.length} arrivals)`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
