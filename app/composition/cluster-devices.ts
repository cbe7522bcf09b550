import type Redis from 'ioredis';
import type { RedisKeys } from '../cluster/redis-keys';
import type { DeviceRecord, NewDevice } from '../domain/device';
import type { DeviceAccounts } from '../store/device-accounts';
import type { DeviceAdmin } from '../store/device-admin';

// Stands in for the accounts port on Redis until it lands (PORTS_STILL_LOCAL): devices are
// paired, listed and revoked in this node's SQLite, and what the shared delivery store reads of
// a device (its pairing seq, revocation, topic filter: the `device:<id>` hash of redis-keys.ts)
// is written to Redis beside each change. A phone paired on this node is delivered to here,
// whichever node a notification was posted on; it cannot connect to another node yet.

type PublicOf<T> = Pick<T, keyof T>;

/** Mirrors this node's device changes into the `device:<id>` hashes RedisDeliveryStore reads. */
export class DeviceMirror {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /** The local accounts, with each pairing mirrored (owed what is appended after the cluster's seq at pairing time). */
  accounts(local: PublicOf<DeviceAccounts>): PublicOf<DeviceAccounts> {
    return {
      device: (id) => local.device(id),
      createPairingCode: (hash, expiresMs, offersHistory) => local.createPairingCode(hash, expiresMs, offersHistory),
      pairDevice: async (codeHash: string, device: NewDevice) => {
        // Read before the pairing commits: a notification in between is sent (once), never missed.
        const seq = Number((await this.redis.get(this.keys.seq)) ?? 0);
        const paired = await local.pairDevice(codeHash, device);
        if (paired) await this.write(paired, seq);
        return paired;
      },
      takePairingHistory: (deviceId, limit) => local.takePairingHistory(deviceId, limit),
      notificationForDevice: (deviceId, id) => local.notificationForDevice(deviceId, id),
      rotateRefreshToken: (hash, nextHash, nextExpiresMs) => local.rotateRefreshToken(hash, nextHash, nextExpiresMs),
    };
  }

  /** The local device admin, with revocations and topic filters mirrored. */
  deviceAdmin(local: PublicOf<DeviceAdmin>): PublicOf<DeviceAdmin> {
    return {
      activeDevices: () => local.activeDevices(),
      nameOf: (id) => local.nameOf(id),
      renameDevice: (id, name) => local.renameDevice(id, name),
      revokeDevice: async (id) => {
        const revoked = await local.revokeDevice(id);
        if (revoked) await this.redis.hset(this.keys.device(id), 'revokedAt', new Date().toISOString());
        return revoked;
      },
      setDeviceTopics: async (id, topics) => {
        const found = await local.setDeviceTopics(id, topics);
        if (found) {
          if (topics === null) await this.redis.hdel(this.keys.device(id), 'topics');
          else await this.redis.hset(this.keys.device(id), 'topics', JSON.stringify(topics));
        }
        return found;
      },
    };
  }

  /**
   * Before a phone's progress is read: a device paired here whose mirror write did not reach
   * Redis (it was away) is mirrored now, owed from the cluster's current seq.
   */
  async ensure(device: DeviceRecord): Promise<void> {
    const key = this.keys.device(device.id);
    if ((await this.redis.hexists(key, 'pairedSeq')) === 1) return;
    await this.write(device, Number((await this.redis.get(this.keys.seq)) ?? 0));
  }

  private async write(device: DeviceRecord, seq: number): Promise<void> {
    const key = this.keys.device(device.id);
    const tx = this.redis.multi().hsetnx(key, 'pairedSeq', String(seq));
    if (device.topics) tx.hset(key, 'topics', JSON.stringify(device.topics));
    if (device.revokedAt) tx.hset(key, 'revokedAt', device.revokedAt);
    await tx.exec();
  }
}
