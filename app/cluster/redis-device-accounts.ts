import type Redis from 'ioredis';
import type { DeviceLookup } from '../auth/token-service';
import type { ActionLookup } from '../compat/ntfy/action-service';
import type { DeviceRecord, NewDevice, RefreshOutcome } from '../domain/device';
import type { StoredNotification } from '../domain/notification';
import type { PairingStore } from '../pairing/pairing-service';
import type { FieldSealer } from '../store/rows';
import { CREATE_CODE, PAIR, ROTATE, TAKE_HISTORY } from './account-scripts';
import { readDevice, sealDeviceName } from './device-hash';
import { notificationById, recentUpTo } from './notification-reads';
import { committed } from './redis-commit';
import type { RedisKeys } from './redis-keys';

// A device's credentials on Redis, shared by every node (what store/device-accounts.ts is on
// SQLite): one-time pairing codes (burnt and the device enrolled in one script; expired by their
// Redis TTL), refresh-token families (rotation, reuse detection revoking the family and bumping
// the device's token generation in one script, the session cap) and the device lookup behind
// every access-token check. Nothing is cached on a node: each verification reads the device's
// revocation and token generation from Redis, so a revocation made on any node holds at once.

/** What pairing, token verification, the first connection and http action buttons need, for every node of a cluster. */
export class RedisDeviceAccounts implements PairingStore, DeviceLookup, ActionLookup {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly sealer: FieldSealer,
    /** Refresh-token families a device may hold; the oldest is dropped past it. */
    private readonly maxSessions: number,
  ) {}

  device(id: string): Promise<DeviceRecord | undefined> {
    return readDevice(this.redis, this.keys, this.sealer, id);
  }

  async createPairingCode(hash: string, expiresMs: number, offersHistory: boolean): Promise<void> {
    await committed(CREATE_CODE.run(this.redis, [this.keys.prefix, hash, expiresMs, offersHistory ? '1' : '0']));
  }

  /** Burns the code and enrols the device in one script; null when the code is not good. */
  async pairDevice(codeHash: string, device: NewDevice): Promise<(DeviceRecord & { historyOffered: boolean }) | null> {
    const now = Date.now();
    const pairedAt = new Date(now).toISOString();
    const topics = device.topics ?? null;
    // The script keeps it only when the code offers history too.
    const historyFromMs = device.historyHours ? now - device.historyHours * 3_600_000 : '';
    const args = [this.keys.prefix, codeHash, device.id, sealDeviceName(this.sealer, device.id, device.name), device.platform, pairedAt, now, topics ? JSON.stringify(topics) : '', historyFromMs, device.refreshHash, device.family, device.refreshExpiresMs, this.maxSessions];
    const reply = (await committed(PAIR.run(this.redis, args))) as [number, number] | null;
    if (!reply) return null;
    const [pairedSeq, history] = reply;
    return { id: device.id, name: device.name, platform: device.platform, pairedAt, lastSeenAt: null, revokedAt: null, pairedSeq, tokenGen: 1, topics, historyOffered: history === 1 };
  }

  /** The recent history a newly paired device asked for, once (empty afterwards, or when none is owed). */
  async takePairingHistory(deviceId: string, limit: number): Promise<StoredNotification[]> {
    const owed = (await committed(TAKE_HISTORY.run(this.redis, [this.keys.prefix, deviceId]))) as [string, string, string] | null;
    if (!owed) return [];
    const [fromMs, pairedSeq, topics] = owed;
    return recentUpTo(this.redis, this.keys, this.sealer, Number(pairedSeq), Number(fromMs), topics === '' ? null : (JSON.parse(topics) as string[]), limit);
  }

  /** A notification this device may act on (an http action button): not revoked, and its topic filter lets it see the topic. */
  async notificationForDevice(deviceId: string, id: string): Promise<StoredNotification | undefined> {
    const device = await this.device(deviceId);
    if (!device || device.revokedAt) return undefined;
    const n = await notificationById(this.redis, this.keys, this.sealer, id);
    if (!n || (n.topic !== null && device.topics !== null && !device.topics.includes(n.topic))) return undefined;
    return n;
  }

  /** Rotates a refresh token; a second use of one revokes its family and every access token (one script: two uses at once on two nodes cannot both rotate). */
  async rotateRefreshToken(hash: string, nextHash: string, nextExpiresMs: number): Promise<RefreshOutcome> {
    const [kind, deviceId] = (await committed(ROTATE.run(this.redis, [this.keys.prefix, hash, nextHash, Date.now(), nextExpiresMs]))) as [string, string?];
    if (kind === 'rotated' || kind === 'reused') return { kind, deviceId: deviceId! };
    return { kind: 'invalid' };
  }
}
