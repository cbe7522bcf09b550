import type { DeviceLookup } from '../auth/token-service';
import type { ActionLookup } from '../compat/ntfy/action-service';
import type { DeviceRecord, NewDevice, RefreshOutcome } from '../domain/device';
import type { StoredNotification } from '../domain/notification';
import type { PairingStore } from '../pairing/pairing-service';
import type { CredentialRepository } from './credential-repository';
import type { DeviceRepository } from './device-repository';
import type { GroupWriter } from './group-writer';
import type { NotificationRepository } from './notification-repository';

// A device's credentials on SQLite: one-time pairing codes, enrolment (and the recent history
// it asked for, handed over once), refresh-token families (rotation, reuse detection, the
// session cap) and the device lookup behind every access-token check. Each change is one write
// of a group commit; the lookup reads the main connection and answers as a promise.

/** What pairing, token verification, the first connection and http action buttons need (pairing/pairing-service.ts, auth/token-service.ts, composition/servers.ts, compat/ntfy/action-service.ts declare it). */
export class DeviceAccounts implements PairingStore, DeviceLookup, ActionLookup {
  constructor(
    private readonly writer: GroupWriter,
    private readonly repos: { devices: DeviceRepository; credentials: CredentialRepository; notifications: NotificationRepository },
    /** Refresh-token families a device may hold; the oldest is dropped past it. */
    private readonly maxSessions: number,
  ) {}

  async device(id: string): Promise<DeviceRecord | undefined> {
    return this.repos.devices.byId(id);
  }

  createPairingCode(hash: string, expiresMs: number, offersHistory: boolean): Promise<void> {
    return this.writer.run(() => this.repos.credentials.insertPairingCode(hash, Date.now(), expiresMs, offersHistory));
  }

  /** Burns the code and enrols the device in one transaction; null when the code is not good. */
  pairDevice(codeHash: string, device: NewDevice): Promise<(DeviceRecord & { historyOffered: boolean }) | null> {
    const { devices, credentials, notifications } = this.repos;
    return this.writer.run(() => {
      const now = Date.now();
      const code = credentials.consumePairingCode(codeHash, now);
      if (!code) return null;
      const pairedSeq = notifications.lastSeq();
      const pairedAt = new Date(now).toISOString();
      // History only when both the code offers it and the person asked for it on the phone.
      const historyFromMs = code.offersHistory && device.historyHours ? now - device.historyHours * 3_600_000 : null;
      devices.insert({ id: device.id, name: device.name, platform: device.platform, pairedAt, pairedSeq, topics: device.topics ?? null, historyFromMs });
      credentials.insertRefreshToken(device.refreshHash, device.id, device.family, now, device.refreshExpiresMs);
      credentials.capFamilies(device.id, this.maxSessions);
      const record = devices.byId(device.id);
      return record ? { ...record, historyOffered: historyFromMs !== null } : null;
    });
  }

  /** The recent history a newly paired device asked for, once (empty afterwards, or when none is owed). */
  async takePairingHistory(deviceId: string, limit: number): Promise<StoredNotification[]> {
    const owed = await this.writer.run(() => this.repos.devices.takeHistory(deviceId));
    return owed ? this.repos.notifications.recentUpTo(owed.pairedSeq, owed.fromMs, owed.topics, limit) : [];
  }

  /** A notification this device may act on (an http action button): not revoked, and its topic filter lets it see the topic. */
  async notificationForDevice(deviceId: string, id: string): Promise<StoredNotification | undefined> {
    const device = this.repos.devices.byId(deviceId);
    if (!device || device.revokedAt) return undefined;
    const n = await this.repos.notifications.findById(id);
    if (!n || (n.topic !== null && device.topics !== null && !device.topics.includes(n.topic))) return undefined;
    return n;
  }

  /** Rotates a refresh token; a second use of one revokes its family and every access token. */
  rotateRefreshToken(hash: string, nextHash: string, nextExpiresMs: number): Promise<RefreshOutcome> {
    const { devices, credentials } = this.repos;
    return this.writer.run((): RefreshOutcome => {
      const now = Date.now();
      const row = credentials.refreshToken(hash);
      if (!row) return { kind: 'invalid' };
      const device = devices.byId(row.device_id);
      if (!device || device.revokedAt) return { kind: 'invalid' };
      if (row.used_ms !== null) {
        credentials.revokeFamily(row.family, now);
        devices.bumpTokenGeneration(row.device_id);
        return { kind: 'reused', deviceId: row.device_id };
      }
      if (row.expires_ms <= now) return { kind: 'invalid' };
      credentials.markRefreshTokenUsed(hash, now);
      credentials.insertRefreshToken(nextHash, row.device_id, row.family, now, nextExpiresMs);
      return { kind: 'rotated', deviceId: row.device_id };
    });
  }
}
