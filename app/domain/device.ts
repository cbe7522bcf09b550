// A phone (or any client) paired with this daemon.

export interface Device {
  id: string;
  name: string;
  platform: string;
  pairedAt: string;
  lastSeenAt: string | null;
  revokedAt: string | null;
  /** The outbox seq at the moment of pairing: only notifications after it are owed. */
  pairedSeq: number;
  /** Topics the device chose (protocol extension); null = every topic. Untopiced notifications always pass. */
  topics: string[] | null;
}

/** What the admin API lists: the device plus live facts the gateway knows. */
export interface DeviceView {
  id: string;
  name: string;
  platform: string;
  pairedAt: string;
  lastSeenAt: string | null;
  online: boolean;
  pending: number;
  /** The device's topic filter; null = every topic. */
  topics: string[] | null;
  /** Cluster mode: the node holding the phone's connection (null: none); absent in embedded mode. */
  node?: string | null;
}

/** A device about to be enrolled, with the hash of its first refresh token. */
export interface NewDevice {
  id: string;
  name: string;
  platform: string;
  refreshHash: string;
  family: string;
  refreshExpiresMs: number;
  topics?: string[] | null;
  /** Hours of recent history the person asked to see on this phone (null: none). */
  historyHours?: number | null;
}

/** What presenting a refresh token led to. */
export type RefreshOutcome = { kind: 'rotated'; deviceId: string } | { kind: 'reused'; deviceId: string } | { kind: 'invalid' };

/** A device row with the generation its access tokens must carry. */
export type DeviceRecord = Device & { tokenGen: number };
