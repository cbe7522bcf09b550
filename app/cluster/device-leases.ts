import type Redis from 'ioredis';
import { ACQUIRE, RELEASE, RENEW } from './progress-scripts';
import type { RedisKeys } from './redis-keys';

// Which node may write a device's progress: the one holding its lease. The newest connection
// wins: acquiring bumps the device's fencing epoch and takes the lease, whoever held it. The
// lease lives by Redis' TTL (never a node's clock) and is renewed while the socket is open;
// every progress write names the lease it was taken under and is checked against it in the
// same script (progress-scripts.ts SAVE_PROGRESS).

/** The leases this node holds, by device: `<epoch> <nodeId>`, as stored in Redis. */
export class DeviceLeases {
  private readonly held = new Map<string, string>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    /** This node's id (unique per process in the cluster). */
    private readonly nodeId: string,
    /** ms a lease lives unless renewed (config/defaults.ts DEVICE_LEASE_TTL_MS). */
    private readonly ttlMs: number,
  ) {}

  /** Takes the device's lease (a newer epoch than any before); returns the epoch. */
  async acquire(deviceId: string): Promise<number> {
    const epoch = Number(await ACQUIRE.run(this.redis, [this.keys.prefix, deviceId, this.nodeId, this.ttlMs]));
    this.held.set(deviceId, `${epoch} ${this.nodeId}`);
    return epoch;
  }

  /** Extends a held lease; false when it was lost (another node took the device, or it expired): close the socket. */
  async renew(deviceId: string): Promise<boolean> {
    const lease = this.held.get(deviceId);
    if (lease === undefined) return false;
    const kept = Number(await RENEW.run(this.redis, [this.keys.prefix, deviceId, lease, this.ttlMs])) === 1;
    if (!kept) this.held.delete(deviceId);
    return kept;
  }

  /** Gives the lease up (the socket closed, after its last progress write). */
  async release(deviceId: string): Promise<void> {
    const lease = this.held.get(deviceId);
    this.held.delete(deviceId);
    if (lease !== undefined) await RELEASE.run(this.redis, [this.keys.prefix, deviceId, lease]);
  }

  /** The lease a progress write is taken under; undefined when this node does not hold the device. */
  leaseOf(deviceId: string): string | undefined {
    return this.held.get(deviceId);
  }

  /** A write was refused under this lease: it is not ours any more. */
  lost(deviceId: string, lease: string): void {
    if (this.held.get(deviceId) === lease) this.held.delete(deviceId);
  }
}
