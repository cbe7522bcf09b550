import type Redis from 'ioredis';
import { openUnderMaster, sealUnderMaster } from './master-seal';
import type { RedisKeys } from './redis-keys';

// A secret every node of a cluster must hold the same, kept in Redis sealed under the master
// key: the audit key (crypto/audit-key.ts; one audit chain for the cluster needs one MAC key).
// The first node to start offers its own (its keys/audit.key) and every node then uses that one.

/** One named secret. */
export class RedisSharedSecret {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly master: Buffer,
    /** What it is ('audit-key'); also the seal's associated data. */
    private readonly name: string,
  ) {}

  /** The cluster's secret: `offered` when no node offered one before, else the first one offered. */
  async shared(offered: Buffer): Promise<Buffer> {
    const key = this.keys.sharedSecret(this.name);
    await this.redis.set(key, sealUnderMaster(this.master, offered.toString('base64'), this.name), 'NX');
    const sealed = await this.redis.get(key);
    if (sealed === null) throw new Error(`the cluster's ${this.name} vanished from Redis`);
    return Buffer.from(openUnderMaster(this.master, sealed, this.name), 'base64');
  }
}
