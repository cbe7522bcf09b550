import crypto from 'node:crypto';
import type { DeviceRecord, NewDevice, RefreshOutcome } from '../domain/device';
import { BeepError } from '../domain/errors';
import { reserveAll, type Attempt, type FailureBudget } from '../auth/failure-limiter';
import { hashSecret, newRefreshToken, type TokenService } from '../auth/token-service';
import { qrSvg } from './qr';

// Pairing, one named step per function: create a one-time code (admin), exchange it for a
// device and tokens (gateway), and rotate tokens (gateway).

/** What pairing needs from storage; store/ implements it. */
export interface PairingStore {
  createPairingCode(hash: string, expiresMs: number, offersHistory: boolean): Promise<void>;
  /** Enrols the device; `historyOffered` when its recent history will be shown to it. */
  pairDevice(codeHash: string, device: NewDevice): Promise<(DeviceRecord & { historyOffered: boolean }) | null>;
  rotateRefreshToken(hash: string, nextHash: string, nextExpiresMs: number): Promise<RefreshOutcome>;
  device(id: string): Promise<DeviceRecord | undefined>;
}

export interface PairingOptions {
  codeTtlSec: number;
  refreshTtlDays: number;
  /** The gateway URL phones should open, e.g. https://192.168.1.20:2337 (known once bound). */
  gatewayUrl: () => string;
  caFingerprint: () => string;
  /** The cluster's gateways now (embedded: this one), carried by pairing and refresh answers. */
  nodes: () => Promise<GatewayNode[]>;
  /** Hours of recent history a new phone may ask for (0 = never offered). */
  historyHours: number;
}

export interface PairingEvents {
  onPaired?: (device: DeviceRecord, ip: string) => void;
  onFailedAttempt?: (ip: string) => void;
  /** An IP (or a code value, from any IP) spent its budget of failed attempts. */
  onLockedOut?: (scope: 'ip' | 'code', ip: string) => void;
  /** An attempt refused because the IP or the code value is locked out. */
  onRefused?: (scope: 'ip' | 'code', ip: string) => void;
  onRefreshReuse?: (deviceId: string) => void;
}

/** Failed-attempt budgets for pairing: per client address and per code value. */
export interface PairingLimiters {
  perIp: FailureBudget;
  perCode: FailureBudget;
}

/** One gateway a phone may connect through: its URL and the node's id (embedded: the PC's host name). */
export interface GatewayNode {
  url: string;
  id: string;
}

export interface Credentials {
  deviceId: string;
  accessToken: string;
  refreshToken: string;
  accessExpiresIn: number;
}

/** A pairing's answer: the credentials, and whether recent history follows on the first connection. */
export type PairingAnswer = Credentials & { history: boolean; nodes: GatewayNode[] };

/** A refresh's answer: the new tokens and the cluster's gateways now. */
export type RefreshAnswer = Omit<Credentials, 'deviceId'> & { nodes: GatewayNode[] };

/** 8 digits: typed by hand in a few seconds, 10^8 guesses against 5 allowed. */
const CODE_DIGITS = 8;

export class PairingService {
  constructor(
    private readonly store: PairingStore,
    private readonly tokens: TokenService,
    private readonly limiters: PairingLimiters,
    private readonly options: PairingOptions,
    private readonly events: PairingEvents = {},
  ) {}

  /**
   * Admin: a fresh one-time code, the URL a phone opens, and that URL as a QR code. With
   * `history: false` (pairing someone else's phone) the code never hands out recent history.
   */
  async createCode(options: { history?: boolean } = {}): Promise<{ code: string; expiresAt: string; url: string; qrSvg: string; historyHours: number }> {
    const code = crypto.randomInt(0, 10 ** CODE_DIGITS).toString().padStart(CODE_DIGITS, '0');
    const expiresMs = Date.now() + this.options.codeTtlSec * 1000;
    const historyHours = options.history === false ? 0 : this.options.historyHours;
    await this.store.createPairingCode(hashSecret(code), expiresMs, historyHours > 0);
    const url = this.pairingUrl(code, historyHours);
    return { code, expiresAt: new Date(expiresMs).toISOString(), url, qrSvg: await qrSvg(url), historyHours };
  }

  /**
   * The code and CA fingerprint ride in the fragment, which browsers never send to a server;
   * `h` tells the phone how many hours of history it may offer to show (absent: none).
   */
  pairingUrl(code: string, historyHours = 0): string {
    const fp = encodeURIComponent(this.options.caFingerprint());
    return `${this.options.gatewayUrl()}/#code=${code}&fp=${fp}${historyHours > 0 ? `&h=${historyHours}` : ''}`;
  }

  /**
   * Gateway: exchanges a code for a new device and its first credentials. A point of both
   * budgets is reserved before the code is looked up and given back when it pairs.
   */
  async pair(input: { code: string; name: string; platform: string; topics?: string[] | null; history?: boolean }, ip: string): Promise<PairingAnswer> {
    const codeHash = hashSecret(input.code);
    const [byIp, byCode] = await reserveAll([() => this.reserve('ip', ip, ip), () => this.reserve('code', codeHash, ip)]);
    const refreshToken = newRefreshToken();
    let device: (DeviceRecord & { historyOffered: boolean }) | null;
    try {
      device = await this.store.pairDevice(codeHash, {
        id: crypto.randomUUID(),
        name: input.name,
        platform: input.platform,
        refreshHash: hashSecret(refreshToken),
        family: crypto.randomUUID(),
        refreshExpiresMs: this.refreshExpiry(),
        topics: input.topics ?? null,
        historyHours: input.history ? this.options.historyHours : null,
      });
    } catch (error) {
      await refund(byIp, byCode); // not evaluated: the store failed
      throw error;
    }
    if (!device) {
      this.events.onFailedAttempt?.(ip);
      if (byIp.last) this.events.onLockedOut?.('ip', ip);
      if (byCode.last) this.events.onLockedOut?.('code', ip);
      throw new BeepError('pairing_code_invalid');
    }
    await refund(byIp, byCode);
    this.events.onPaired?.(device, ip);
    return { ...this.credentials(device.id, device.tokenGen, refreshToken), history: device.historyOffered, nodes: await this.options.nodes() };
  }

  /** Gateway: a used refresh token for a fresh pair; a reused one signs the device out. */
  async refresh(refreshToken: string): Promise<RefreshAnswer> {
    const next = newRefreshToken();
    const outcome = await this.store.rotateRefreshToken(hashSecret(refreshToken), hashSecret(next), this.refreshExpiry());
    if (outcome.kind === 'reused') {
      this.events.onRefreshReuse?.(outcome.deviceId);
      throw new BeepError('refresh_token_reused');
    }
    if (outcome.kind === 'invalid') throw new BeepError('refresh_token_invalid');
    const device = await this.store.device(outcome.deviceId);
    if (!device || device.revokedAt) throw new BeepError('device_revoked');
    const { deviceId: _ignored, ...rest } = this.credentials(device.id, device.tokenGen, next);
    return { ...rest, nodes: await this.options.nodes() };
  }

  private async reserve(scope: 'ip' | 'code', key: string, ip: string): Promise<Attempt> {
    try {
      return await this.limiters[scope === 'ip' ? 'perIp' : 'perCode'].reserve(key);
    } catch (error) {
      this.events.onRefused?.(scope, ip);
      throw error;
    }
  }

  private credentials(deviceId: string, tokenGen: number, refreshToken: string): Credentials {
    return {
      deviceId,
      accessToken: this.tokens.issue(deviceId, tokenGen),
      refreshToken,
      accessExpiresIn: this.tokens.accessTtlSec,
    };
  }

  private refreshExpiry(): number {
    return Date.now() + this.options.refreshTtlDays * 86_400_000;
  }
}

function refund(...attempts: Attempt[]): Promise<unknown> {
  return Promise.all(attempts.map((a) => a.refund()));
}
