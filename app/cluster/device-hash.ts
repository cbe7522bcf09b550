import type Redis from 'ioredis';
import type { DeviceRecord } from '../domain/device';
import { aadOf, type FieldSealer } from '../store/rows';
import type { RedisKeys } from './redis-keys';

// A device as its Redis hash holds it (redis-keys.ts `device`), read back into the record the
// SQLite store gives (store/rows.ts toDevice). The name is sealed with the same associated data
// as in SQLite (`devices.name.<id>`), so a sealed name cannot be moved to another device.

/** The sealed form of a device's name. */
export function sealDeviceName(sealer: FieldSealer, id: string, name: string): string {
  return sealer.seal(name, aadOf('devices', 'name', id));
}

/** A device's name from its sealed form. */
export function openDeviceName(sealer: FieldSealer, id: string, sealed: string): string {
  return sealer.open(sealed, aadOf('devices', 'name', id));
}

/** The record of a device hash; undefined when there is no such device (an empty hash). */
export function deviceOf(sealer: FieldSealer, id: string, h: Record<string, string>): DeviceRecord | undefined {
  if (h.pairedSeq === undefined || h.name === undefined) return undefined;
  return {
    id,
    name: openDeviceName(sealer, id, h.name),
    platform: h.platform ?? '',
    pairedAt: h.pairedAt ?? '',
    lastSeenAt: h.lastSeenAt ?? null,
    revokedAt: h.revokedAt ?? null,
    pairedSeq: Number(h.pairedSeq),
    tokenGen: Number(h.tokenGen ?? 1),
    topics: h.topics === undefined ? null : (JSON.parse(h.topics) as string[]),
  };
}

/** Reads one device (one round trip, nothing cached: a revocation is seen by the next read on any node). */
export async function readDevice(redis: Redis, keys: RedisKeys, sealer: FieldSealer, id: string): Promise<DeviceRecord | undefined> {
  return deviceOf(sealer, id, await redis.hgetall(keys.device(id)));
}
