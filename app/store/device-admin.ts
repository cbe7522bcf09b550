import type { DeviceRecord } from '../domain/device';
import type { DirectoryStore } from '../gateway/device-directory';
import type { CredentialRepository } from './credential-repository';
import type { DeviceRepository } from './device-repository';
import type { GroupWriter } from './group-writer';

// The admin's view of devices on SQLite: the list, rename, topic filter, revocation (the device
// and every refresh token in one write), and a device's name for the live feed. Lookups read the
// main connection and answer as promises, as a shared store would.

/** What the device directory needs (gateway/device-directory.ts declares it), and the feed's name lookup. */
export class DeviceAdmin implements DirectoryStore {
  constructor(
    private readonly writer: GroupWriter,
    private readonly repos: { devices: DeviceRepository; credentials: CredentialRepository },
  ) {}

  async activeDevices(): Promise<DeviceRecord[]> {
    return this.repos.devices.active();
  }

  /** A device's name for the live feed; undefined when unknown. */
  async nameOf(id: string): Promise<string | undefined> {
    return this.repos.devices.byId(id)?.name;
  }

  revokeDevice(id: string): Promise<boolean> {
    const { devices, credentials } = this.repos;
    return this.writer.run(() => {
      const revoked = devices.revoke(id, new Date());
      if (revoked) credentials.revokeDeviceTokens(id);
      return revoked;
    });
  }

  renameDevice(id: string, name: string): Promise<boolean> {
    return this.writer.run(() => this.repos.devices.rename(id, name));
  }

  /** A device's topic filter (null = every topic); false when unknown or revoked. */
  setDeviceTopics(id: string, topics: string[] | null): Promise<boolean> {
    return this.writer.run(() => this.repos.devices.setTopics(id, topics));
  }
}
