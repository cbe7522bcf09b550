import crypto from 'node:crypto';
import type Redis from 'ioredis';
import { keyFromPem, type KeyRing, type SigningKey } from '../auth/signing-keys';
import { LuaScript } from './lua-script';
import { openUnderMaster, sealUnderMaster } from './master-seal';
import type { RedisClusterLease } from './redis-cluster-lease';
import type { RedisKeys } from './redis-keys';

// The JWT signing-key ring of a cluster (what auth/signing-keys.ts is on disk): one ring in
// Redis, each ES256 key's PEM sealed under the master key, so a token signed on one node verifies
// on every other. A node holds the ring in memory (KeyRing is synchronous) and reloads it every
// `refreshMs`. A new key is published first and signs only `activationMs` after its creation:
// every node has reloaded it by then (refreshMs < activationMs), so no node ever meets a token
// under a kid it has not loaded. Rotation runs under a cluster lease (one node rotates).

/** ARGV: hash key, field, sealed PEM. Stores the first key only when the ring is empty. */
const CREATE_FIRST = new LuaScript(`
if redis.call('HLEN', ARGV[1]) > 0 then return 0 end
redis.call('HSET', ARGV[1], ARGV[2], ARGV[3])
return 1
`);

export interface RedisRingOptions {
  rotationDays: number;
  /** ms a retired key keeps verifying: the access-token lifetime (plus clock skew). */
  retainMs: number;
  /** ms before a new key signs (config/defaults.ts SIGNING_KEY_ACTIVATION_MS); more than refreshMs. */
  activationMs: number;
  now?: () => number;
}

const aad = (createdMs: number) => `signing key ${createdMs}`;

/** The cluster's ring; `open` loads it (creating the first key, or seeding it with a node's own). */
export class RedisSigningKeyRing implements KeyRing {
  private keys: SigningKey[] = []; // newest first
  private readonly now: () => number;

  private constructor(
    private readonly redis: Redis,
    private readonly redisKeys: RedisKeys,
    private readonly master: Buffer,
    private readonly lease: RedisClusterLease,
    private readonly options: RedisRingOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Loads the ring; an empty cluster takes `seed` (this node's ring from keys/, so tokens it
   * issued keep verifying) or a fresh key. Several nodes starting at once agree on one.
   */
  static async open(redis: Redis, keys: RedisKeys, master: Buffer, lease: RedisClusterLease, options: RedisRingOptions, seed: SigningKey[] = []): Promise<RedisSigningKeyRing> {
    const ring = new RedisSigningKeyRing(redis, keys, master, lease, options);
    await ring.refresh();
    if (ring.keys.length === 0) {
      const first = seed.length > 0 ? [...seed].sort((a, b) => b.createdMs - a.createdMs)[0] : null;
      const pem = first ? (first.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string) : ring.newPem();
      // A seeded key signed before: it is active at once (its createdMs is in the past).
      const createdMs = first ? first.createdMs : ring.now() - options.activationMs;
      await CREATE_FIRST.run(redis, [keys.signingKeys, String(createdMs), sealUnderMaster(master, pem, aad(createdMs))]);
      await ring.refresh();
    }
    return ring;
  }

  /** The newest key that is active (published at least `activationMs` ago), else the oldest. */
  current(): SigningKey {
    const now = this.now();
    return this.keys.find((k) => k.createdMs + this.options.activationMs <= now) ?? this.keys[this.keys.length - 1];
  }

  byKid(kid: string): SigningKey | undefined {
    return this.keys.find((k) => k.kid === kid);
  }

  /** The kids that still verify, newest first. */
  kids(): string[] {
    return this.keys.map((k) => k.kid);
  }

  /** Reloads the ring from Redis (every refreshMs, and after a rotation another node announced). */
  async refresh(): Promise<void> {
    const all = await this.redis.hgetall(this.redisKeys.signingKeys);
    const loaded = Object.entries(all).map(([field, sealed]) => {
      const createdMs = Number(field);
      const known = this.keys.find((k) => k.createdMs === createdMs);
      return known ?? keyFromPem(openUnderMaster(this.master, sealed, aad(createdMs)), createdMs);
    });
    if (loaded.length === 0 && this.keys.length > 0) return; // never lose the ring to an emptied key: keep what signs
    this.keys = loaded.sort((a, b) => b.createdMs - a.createdMs);
  }

  /** `beep cluster init`: an imported install's older keys join the ring (an existing createdMs is kept), so tokens they signed still verify until retired. */
  async adopt(keys: SigningKey[]): Promise<void> {
    for (const k of keys) {
      const pem = k.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
      await this.redis.hsetnx(this.redisKeys.signingKeys, String(k.createdMs), sealUnderMaster(this.master, pem, aad(k.createdMs)));
    }
    await this.refresh();
  }

  /**
   * Under the cluster lease: publishes a new key when the newest is older than the rotation
   * period, and drops keys retired longer than tokens live. Returns the new key (it signs after
   * `activationMs`), or undefined (not due, or another node is rotating).
   */
  async rotateIfDue(): Promise<SigningKey | undefined> {
    if (!(await this.lease.acquire())) return undefined;
    try {
      await this.refresh();
      const newest = this.keys[0];
      const due = !newest || this.now() - newest.createdMs >= this.options.rotationDays * 86_400_000;
      let created: SigningKey | undefined;
      if (due) {
        const pem = this.newPem();
        const createdMs = Math.max(this.now(), (newest?.createdMs ?? 0) + 1);
        await this.redis.hset(this.redisKeys.signingKeys, String(createdMs), sealUnderMaster(this.master, pem, aad(createdMs)));
        created = keyFromPem(pem, createdMs);
      }
      await this.dropRetired();
      await this.refresh();
      return created;
    } finally {
      await this.lease.release().catch(() => undefined);
    }
  }

  /** A key stops signing when its successor activates; it verifies `retainMs` longer, then goes. */
  private async dropRetired(): Promise<void> {
    const now = this.now();
    const stale: string[] = [];
    for (let i = 1; i < this.keys.length; i++) {
      const retiredAt = this.keys[i - 1].createdMs + this.options.activationMs;
      if (now - retiredAt >= this.options.retainMs) stale.push(String(this.keys[i].createdMs));
    }
    if (stale.length > 0) await this.redis.hdel(this.redisKeys.signingKeys, ...stale);
  }

  private newPem(): string {
    const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  }
}
