import crypto from 'node:crypto';
import type Redis from 'ioredis';
import { openUnderMaster, sealUnderMaster } from './master-seal';
import type { RedisKeys } from './redis-keys';

// Every node must be started with the cluster's master key: the data keys, the CA key and the
// signing keys in Redis are sealed under it. The first node to start leaves a sealed random
// value; every later one opens it before anything else, so a node with another master key
// refuses to start with a message saying what to copy, instead of failing on the first seal.

const AAD = 'master key check';

/** The check; run once at start, before the trust material is loaded. */
export class RedisMasterCheck {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly master: Buffer,
  ) {}

  /** Resolves when this node's master key is the cluster's (the first node sets it); throws otherwise. */
  async verify(): Promise<void> {
    await this.redis.set(this.keys.masterCheck, sealUnderMaster(this.master, crypto.randomBytes(16).toString('hex'), AAD), 'NX');
    const sealed = await this.redis.get(this.keys.masterCheck);
    if (sealed === null) throw new Error('the master key check vanished from Redis');
    openUnderMaster(this.master, sealed, AAD);
  }
}
