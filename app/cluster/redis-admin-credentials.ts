import type Redis from 'ioredis';
import type { AdminCredentialStore } from '../http/routes/admin-password-routes';
import type { AdminCredentials } from '../store/admin-credential-store';
import { aadOf, type FieldSealer } from '../store/rows';
import { committed } from './redis-commit';
import type { RedisKeys } from './redis-keys';

// The dashboard password hash and TOTP secret on Redis, one hash for the cluster (what
// store/admin-credential-store.ts is on SQLite): the TOTP secret sealed with the same associated
// data as in SQLite, so a password set through one node logs in on every node.

const TOTP_AAD = aadOf('admin_credentials', 'totp_secret', '1');

/** What the password routes, the dashboard login and the Gotify login need (composition/observability.ts AdminCredentialPort), for every node of a cluster. */
export class RedisAdminCredentials implements AdminCredentialStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly sealer: FieldSealer,
  ) {}

  /** Stores the password hash and TOTP secret (sealed); null secret = no second factor. Both at once (MULTI). */
  async setAdminCredentials(passwordHash: string, totpSecret: string | null): Promise<void> {
    const key = this.keys.adminCredentials;
    const tx = this.redis.multi().hset(key, 'passwordHash', passwordHash, 'updatedMs', String(Date.now()));
    if (totpSecret === null) tx.hdel(key, 'totpSecret');
    else tx.hset(key, 'totpSecret', this.sealer.seal(totpSecret, TOTP_AAD));
    const replies = await committed(tx.exec());
    const failed = replies?.find(([error]) => error !== null);
    if (!replies || failed) await committed(Promise.reject(failed?.[0] ?? new Error('transaction aborted')));
  }

  /** The credentials, TOTP secret opened; undefined when no password is set. */
  async adminCredentials(): Promise<AdminCredentials | undefined> {
    const [passwordHash, sealed] = await this.redis.hmget(this.keys.adminCredentials, 'passwordHash', 'totpSecret');
    if (passwordHash === null) return undefined;
    return { passwordHash, totpSecret: sealed === null ? null : this.sealer.open(sealed, TOTP_AAD) };
  }
}
