import crypto from 'node:crypto';
import type Redis from 'ioredis';
import { RELEASE_LEASE, RENEW_LEASE } from './lease-scripts';
import type { RedisKeys } from './redis-keys';

// A lease one node of the cluster holds at a time, so an operation that must not run twice at
// once (`beep keys rotate`, a JWT signing-key rotation) is serialised across nodes: SET NX PX
// with a random token, renewed while the work runs, released by compare-and-delete (a lease that
// expired and was taken by another node is never released by the late holder). Redis' TTL, never
// a node clock, decides when an abandoned lease (a node killed holding it) frees.

/** Another node holds the lease: the operation is refused (retry later), never run twice. */
export class LeaseBusyError extends Error {
  constructor(name: string) {
    super(`another node of the cluster is running ${name}; try again when it has finished`);
    this.name = 'LeaseBusyError';
  }
}

/** One named lease. */
export class RedisClusterLease {
  private token: string | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    /** What it serialises ('data-key-rotation', 'signing-key-rotation'). */
    readonly name: string,
    /** This node's id (the token starts with it, for whoever looks at Redis). */
    private readonly nodeId: string,
    /** ms the lease lives unless renewed (config/defaults.ts CLUSTER_LEASE_TTL_MS). */
    private readonly ttlMs: number,
  ) {}

  /** Takes the lease if nobody holds it; true when this node holds it now. */
  async acquire(): Promise<boolean> {
    const token = `${this.nodeId}:${crypto.randomUUID()}`;
    const ok = await this.redis.set(this.keys.clusterLease(this.name), token, 'PX', this.ttlMs, 'NX');
    if (ok !== 'OK') return false;
    this.token = token;
    return true;
  }

  /** Extends it; false when it is not held by this node any more (expired, taken). */
  async renew(): Promise<boolean> {
    if (!this.token) return false;
    const ok = (await RENEW_LEASE.run(this.redis, [this.keys.clusterLease(this.name), this.token, this.ttlMs])) === 1;
    if (!ok) this.token = null;
    return ok;
  }

  /** Lets it go; false when it was not this node's any more. */
  async release(): Promise<boolean> {
    if (!this.token) return false;
    const token = this.token;
    this.token = null;
    return (await RELEASE_LEASE.run(this.redis, [this.keys.clusterLease(this.name), token])) === 1;
  }

  /** Who holds it now (its token), or null. */
  holder(): Promise<string | null> {
    return this.redis.get(this.keys.clusterLease(this.name));
  }

  /**
   * Runs `fn` holding the lease (renewed every third of its TTL meanwhile), then releases it;
   * throws LeaseBusyError when another node holds it. `fn` is told if the lease was lost.
   *
   *   await lease.run(async (lost) => { ...; if (lost()) throw new Error('lease lost'); ... });
   */
  async run<T>(fn: (lost: () => boolean) => Promise<T>): Promise<T> {
    if (!(await this.acquire())) throw new LeaseBusyError(this.name);
    let lost = false;
    const timer = setInterval(() => {
      this.renew().then(
        (ok) => (lost ||= !ok),
        () => undefined, // Redis unreachable: the next renewal tries again; its TTL decides
      );
    }, Math.max(10, Math.floor(this.ttlMs / 3)));
    timer.unref();
    try {
      return await fn(() => lost);
    } finally {
      clearInterval(timer);
      await this.release().catch(() => undefined);
    }
  }
}
