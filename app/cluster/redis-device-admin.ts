import type Redis from 'ioredis';
import type { DeviceRecord } from '../domain/device';
import type { DirectoryStore } from '../gateway/device-directory';
import type { FieldSealer } from '../store/rows';
import { REVOKE_DEVICE, SET_DEVICE_FIELD } from './account-scripts';
import { deviceOf, openDeviceName, sealDeviceName } from './device-hash';
import { committed } from './redis-commit';
import type { RedisKeys } from './redis-keys';

// The admin's view of devices on Redis (what store/device-admin.ts is on SQLite): the list in
// pairing order, rename (the name sealed as in SQLite), topic filter, and revocation: the device,
// its access tokens (the generation every verification reads) and every refresh token in one
// script. When it was last seen is written by delivery (progress-scripts.ts TOUCH).

/** What the device directory needs (gateway/device-directory.ts declares it), and the feed's name lookup, for every node. */
export class RedisDeviceAdmin implements DirectoryStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly sealer: FieldSealer,
  ) {}

  async activeDevices(): Promise<DeviceRecord[]> {
    const ids = await this.redis.zrange(this.keys.devices, 0, -1);
    if (ids.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hgetall(this.keys.device(id));
    const replies = (await pipe.exec()) ?? [];
    const devices: DeviceRecord[] = [];
    ids.forEach((id, i) => {
      const [error, hash] = replies[i] as [Error | null, Record<string, string>];
      if (error) throw error;
      const device = deviceOf(this.sealer, id, hash);
      // Revoked between the two reads: not active any more.
      if (device && device.revokedAt === null) devices.push(device);
    });
    return devices;
  }

  /** A device's name for the live feed; undefined when unknown. */
  async nameOf(id: string): Promise<string | undefined> {
    const sealed = await this.redis.hget(this.keys.device(id), 'name');
    return sealed === null ? undefined : openDeviceName(this.sealer, id, sealed);
  }

  async revokeDevice(id: string): Promise<boolean> {
    return Number(await committed(REVOKE_DEVICE.run(this.redis, [this.keys.prefix, id, new Date().toISOString()]))) === 1;
  }

  async renameDevice(id: string, name: string): Promise<boolean> {
    return Number(await committed(SET_DEVICE_FIELD.run(this.redis, [this.keys.prefix, id, 'name', '1', sealDeviceName(this.sealer, id, name)]))) === 1;
  }

  /** A device's topic filter (null = every topic); false when unknown or revoked. */
  async setDeviceTopics(id: string, topics: string[] | null): Promise<boolean> {
    const args = topics ? ['1', JSON.stringify(topics)] : ['0'];
    return Number(await committed(SET_DEVICE_FIELD.run(this.redis, [this.keys.prefix, id, 'topics', ...args]))) === 1;
  }
}
