import type { DeviceRecord, DeviceView } from '../domain/device';
import type { Delivery } from '../delivery/delivery';

// The admin view of paired devices: stored facts joined with what the gateway knows live.

/** What the directory needs from storage; store/ implements it. */
export interface DirectoryStore {
  activeDevices(): Promise<DeviceRecord[]>;
  revokeDevice(id: string): Promise<boolean>;
  setDeviceTopics(id: string, topics: string[] | null): Promise<boolean>;
  renameDevice(id: string, name: string): Promise<boolean>;
}

export class DeviceDirectory {
  constructor(
    private readonly store: DirectoryStore,
    private readonly delivery: Delivery,
    private readonly onRevoked?: (deviceId: string) => void,
    /** Cluster mode: which node holds each phone (node-registry.ts); a phone on another node is online too. */
    private readonly holders?: (deviceIds: string[]) => Promise<Map<string, string>>,
  ) {}

  async list(): Promise<DeviceView[]> {
    const devices = await this.store.activeDevices();
    const held = this.holders ? await this.holders(devices.map((d) => d.id)).catch(() => new Map<string, string>()) : undefined;
    return Promise.all(
      devices.map(async (d) => {
        // Delivery owns progress (per priority, acks not yet written included).
        const pending = await this.delivery.owed(d.id);
        return {
          id: d.id,
          name: d.name,
          platform: d.platform,
          pairedAt: d.pairedAt,
          lastSeenAt: d.lastSeenAt,
          online: this.delivery.isOnline(d.id) || held?.has(d.id) === true,
          topics: d.topics,
          pending,
          ...(held ? { node: held.get(d.id) ?? null } : {}),
        };
      }),
    );
  }

  /** The device's topic filter (protocol extension); applies to what is sent from now on. */
  async setTopics(id: string, topics: string[] | null): Promise<boolean> {
    const found = await this.store.setDeviceTopics(id, topics);
    if (found) this.delivery.setTopics(id, topics);
    return found;
  }

  /** false when the device is unknown or revoked. */
  rename(id: string, name: string): Promise<boolean> {
    return this.store.renameDevice(id, name);
  }

  /** Kills the device's tokens (committed first); `onRevoked` then closes its live socket (through the bus). */
  async revoke(id: string): Promise<boolean> {
    const revoked = await this.store.revokeDevice(id);
    if (revoked) this.onRevoked?.(id);
    return revoked;
  }
}
