import { Router } from 'express';
import { BeepError } from '../../domain/errors';
import type { AccessClaims } from '../../auth/token-service';

// Gateway: a phone unpairs itself (protocol extension). Same effect as the admin's
// DELETE /api/v1/devices/:id, authorised by the device's own access token instead.

/** What the route needs: the token check and the revocation the admin route uses too. */
export interface UnpairDeps {
  verify: (token: unknown) => Promise<AccessClaims>;
  revoke: (deviceId: string) => Promise<boolean>;
}

/** Reads `Authorization: Bearer <token>`; anything else is unauthenticated. */
function bearer(header: string | undefined): string {
  const match = /^Bearer ([^\s]+)$/.exec(header ?? '');
  if (!match) throw new BeepError('unauthenticated', 'Send the access token as Authorization: Bearer <token>.');
  return match[1];
}

/** POST /api/v1/unpair → 204; the device's tokens die and its sockets get `revoked`. */
export function unpairRoute(deps: UnpairDeps): Router {
  const router = Router();
  router.post('/api/v1/unpair', async (req, res) => {
    const { deviceId } = await deps.verify(bearer(req.headers.authorization));
    if (!(await deps.revoke(deviceId))) throw new BeepError('device_revoked');
    res.status(204).end();
  });
  return router;
}
