import { Router } from 'express';
import { fingerprintOf, type TlsMaterial } from '../../crypto/certificates';
import { BeepError } from '../../domain/errors';

// Admin: the gateway certificate's status, a forced renewal and a CA rotation, each picked up by
// the running gateway at once (`beep cert status`, `beep cert renew`, `beep cert rotate-ca`).

/** What the routes need from the renewer. */
export interface CertificateControl {
  readonly current: TlsMaterial;
  check(reason: 'forced'): Promise<TlsMaterial>;
  rotateAuthority(): Promise<TlsMaterial>;
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
    const previousFingerprint = control.current.caFingerprint;
    res.json({ ...status(await control.rotateAuthority()), previousFingerprint });
  });
  return router;
}
