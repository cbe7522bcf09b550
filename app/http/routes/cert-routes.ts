import { Router } from 'express';
import { fingerprintOf, type TlsMaterial } from '../../crypto/certificates';
import { BeepError } from '../../domain/errors';

// Admin: the gateway certificate's status, a forced renewal and a CA rotation, each picked up by
// the running gateway at once (`beep cert status`, `beep cert renew`, `beep cert rotate-ca`).

/** What the routes need from the renewer. */
export interface CertificateControl {
  readonly current: TlsMaterial;
  check(reason: 'forced'): Promise<TlsMaterial>;
  /** `expected`: the CA the caller means to replace (refused with ca_changed when another rotation came first). */
  rotateAuthority(expected?: string): Promise<TlsMaterial>;
}

function status(tls: TlsMaterial) {
  return {
    notAfter: tls.notAfter.toISOString(),
    daysLeft: Math.floor((tls.notAfter.getTime() - Date.now()) / 86_400_000),
    subjectAltNames: tls.subjectAltNames,
    leftOutNames: tls.leftOutNames,
    caFingerprint: tls.caFingerprint,
    caNameConstraints: tls.caNameConstrained,
    serverFingerprint: fingerprintOf(tls.certPem),
  };
}

export function certRoutes(control: CertificateControl): Router {
  const router = Router();
  router.get('/api/v1/cert', (_req, res) => {
    res.json(status(control.current));
  });
  router.post('/api/v1/cert/renew', async (_req, res) => {
    res.json(status(await control.check('forced')));
  });
  // Every phone that pinned the old CA must pair again, so the caller confirms it in the body.
  router.post('/api/v1/cert/rotate-ca', async (req, res) => {
    if ((req.body as { confirm?: unknown } | undefined)?.confirm !== true) {
      throw new BeepError('validation_failed', 'Replacing the CA makes every phone pair again: send {"confirm": true} to go ahead.');
    }
    // The CA the caller saw (`beep cert rotate-ca` sends it): two rotations asked of the same CA give one new CA.
    const expected = (req.body as { caFingerprint?: unknown }).caFingerprint;
    if (expected !== undefined && typeof expected !== 'string') throw new BeepError('validation_failed', 'caFingerprint must be the fingerprint of the CA to replace.');
    const previousFingerprint = control.current.caFingerprint;
    if (expected !== undefined && expected !== previousFingerprint) {
      throw new BeepError('ca_changed', `The CA is no longer ${expected} (now ${previousFingerprint}): it was replaced meanwhile. Check \`beep cert status\`.`, { details: { caFingerprint: previousFingerprint } });
    }
    res.json({ ...status(await control.rotateAuthority(expected)), previousFingerprint });
  });
  return router;
}
