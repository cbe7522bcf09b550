import crypto from 'node:crypto';
import jwt from 'jsonwebtoken';
import { BeepError } from '../domain/errors';
import type { KeyRing } from './signing-keys';

// Device credentials: short-lived ES256 access JWTs and opaque, hashed, rotating refresh tokens.

export const ACCESS_AUDIENCE = 'beep:device';
export const ACCESS_TYPE = 'access';
const ALGORITHMS: jwt.Algorithm[] = ['ES256'];
/** bytes of randomness in a refresh token: 256 bits. */
const REFRESH_TOKEN_BYTES = 32;

/** What the token service needs to know about a device when verifying. */
export interface DeviceLookup {
  device(id: string): Promise<{ revokedAt: string | null; tokenGen: number } | undefined>;
}

export interface AccessClaims {
  deviceId: string;
}

/** SHA-256 of a secret, as stored; the secret itself never is. */
export function hashSecret(secret: string): string {
  return crypto.createHash('sha256').update(secret).digest('hex');
}

/** A fresh opaque refresh token. */
export function newRefreshToken(): string {
  return crypto.randomBytes(REFRESH_TOKEN_BYTES).toString('base64url');
}

/**
 * Issues and verifies access tokens.
 *
 *   const token = tokens.issue(device.id, device.tokenGen);
 *   const { deviceId } = await tokens.verify(token); // rejects with BeepError('invalid_token' | 'token_expired' | 'device_revoked')
 */
export class TokenService {
  constructor(
    private readonly keys: KeyRing,
    private readonly devices: DeviceLookup,
    readonly accessTtlSec: number,
  ) {}

  issue(deviceId: string, tokenGen: number): string {
    const key = this.keys.current();
    return jwt.sign({ typ: ACCESS_TYPE, gen: tokenGen }, key.privateKey, {
      algorithm: 'ES256',
      keyid: key.kid,
      audience: ACCESS_AUDIENCE,
      subject: deviceId,
      expiresIn: this.accessTtlSec,
    });
  }

  async verify(token: unknown): Promise<AccessClaims> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 4096) {
      throw new BeepError('unauthenticated', 'An access token is required.');
    }
    const header = jwt.decode(token, { complete: true })?.header;
    const key = typeof header?.kid === 'string' ? this.keys.byKid(header.kid) : undefined;
    if (!key) throw new BeepError('invalid_token');
    let payload: jwt.JwtPayload;
    try {
      payload = jwt.verify(token, key.publicKey, { algorithms: ALGORITHMS, audience: ACCESS_AUDIENCE }) as jwt.JwtPayload;
    } catch (error) {
      if ((error as Error).name === 'TokenExpiredError') throw new BeepError('token_expired');
      throw new BeepError('invalid_token');
    }
    if (payload.typ !== ACCESS_TYPE || typeof payload.exp !== 'number' || typeof payload.sub !== 'string' || typeof payload.gen !== 'number') {
      throw new BeepError('invalid_token');
    }
    const device = await this.devices.device(payload.sub);
    if (!device || device.revokedAt) throw new BeepError('device_revoked');
    if (payload.gen !== device.tokenGen) throw new BeepError('invalid_token', 'This token was revoked.');
    return { deviceId: payload.sub };
  }
}
