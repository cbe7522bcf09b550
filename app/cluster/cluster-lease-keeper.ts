import type { DeviceLeases } from './device-leases';

// The device leases of the phones connected to this node, tied to their sockets: a lease is
// taken when a phone connects (before its progress is read), renewed every TTL/3 while the
// socket is open, and given up after the socket's last progress write. A socket whose lease is
// gone (another node took the phone, or the lease expired while this node was paused) is
// closed: the phone reconnects and its progress is read again from Redis.

/** One connected phone's lease: the value it was taken under and how to close its socket. */
interface Held {
  lease: string;
  epoch: number;
  close: () => void;
}

export interface LeaseKeeperEvents {
  /** This node took a phone's lease (the other nodes close their older sockets of it). */
  onClaimed?: (deviceId: string, epoch: number) => void;
  /** A socket closed because its lease is gone (`why`: fenced, lost, taken). */
  onClosed?: (deviceId: string, why: 'fenced' | 'lost' | 'taken') => void;
  onError?: (error: unknown, context: string) => void;
}

/** Keeps the leases of this node's sockets. */
export class LeaseKeeper {
  private readonly held = new Map<string, Held>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly leases: DeviceLeases,
    /** ms between renewals: a third of the lease TTL, so two renewals may fail before it expires. */
    private readonly renewEveryMs: number,
    private readonly events: LeaseKeeperEvents = {},
  ) {}

  /** Takes the phone's lease for a socket (throws when Redis cannot be reached: refuse the connection, retryably). */
  async claim(deviceId: string, close: () => void): Promise<{ lease: string; epoch: number }> {
    const epoch = await this.leases.acquire(deviceId);
    const lease = this.leases.leaseOf(deviceId)!;
    this.held.set(deviceId, { lease, epoch, close });
    this.events.onClaimed?.(deviceId, epoch);
    return { lease, epoch };
  }

  /** After the socket's last progress write: gives the lease up, unless a newer socket of the phone holds it now. */
  async release(deviceId: string, lease: string): Promise<void> {
    if (this.held.get(deviceId)?.lease === lease) this.held.delete(deviceId);
    if (this.leases.leaseOf(deviceId) !== lease) return;
    await this.leases.release(deviceId);
  }

  /** A progress write was refused under the phone's lease: another node holds it now. */
  fenced(deviceId: string): void {
    this.drop(deviceId, 'fenced');
  }

  /** Another node accepted a connection of the phone with a newer epoch: the newest connection wins. */
  takenElsewhere(deviceId: string, epoch: number): void {
    const held = this.held.get(deviceId);
    if (!held || held.epoch >= epoch) return;
    this.leases.lost(deviceId, held.lease);
    this.drop(deviceId, 'taken');
  }

  /** How many phones this node holds. */
  get count(): number {
    return this.held.size;
  }

  /** The phones this node holds. */
  heldIds(): string[] {
    return [...this.held.keys()];
  }

  /** Starts renewing every `renewEveryMs`. */
  start(): void {
    this.timer ??= setInterval(() => void this.renewAll(), this.renewEveryMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Renews every held lease; one lost closes its socket, one that could not be asked about (Redis away) is kept. */
  async renewAll(): Promise<void> {
    await Promise.all(
      [...this.held.keys()].map(async (deviceId) => {
        try {
          if (!(await this.leases.renew(deviceId))) this.drop(deviceId, 'lost');
        } catch (error) {
          this.events.onError?.(error, 'lease renewal');
        }
      }),
    );
  }

  private drop(deviceId: string, why: 'fenced' | 'lost' | 'taken'): void {
    const held = this.held.get(deviceId);
    if (!held) return;
    this.held.delete(deviceId);
    this.events.onClosed?.(deviceId, why);
    held.close();
  }
}
