import { Router } from 'express';
import { hashAdminPassword } from '../../auth/admin-password';
import { newTotpSecret } from '../../auth/totp';

// Admin: set the optional dashboard password (`beep admin password set`); the dashboard's
// login and sessions are built on another branch and read what this stores.

export interface AdminCredentialStore {
  setAdminCredentials(passwordHash: string, totpSecret: string | null): Promise<void>;
}

export function adminPasswordRoutes(store: AdminCredentialStore, onSet: (totp: boolean) => void): Router {
  const router = Router();
  router.put('/api/v1/admin/password', async (req, res) => {
    const body = (req.body ?? {}) as { password?: unknown; totp?: unknown };
    const hash = await hashAdminPassword(body.password); // password_invalid, with the reason
    const totp = body.totp === true ? newTotpSecret() : null;
    await store.setAdminCredentials(hash, totp?.secret ?? null);
    onSet(totp !== null);
    res.json({ ok: true, ...(totp ? { totpSecret: totp.secret, totpUrl: totp.url } : {}) });
  });
  return router;
}
