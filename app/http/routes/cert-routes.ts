import { Router } from 'express';
import { fingerprintOf, type TlsMaterial } from '../../crypto/certificates';

// Admin: the gateway certificate's status and a forced renewal that the running gateway
// picks up at once (`beep cert status`, `beep cert renew`).

/** What the routes need from the renewer. */
export interface CertificateControl {
  readonly current: TlsMaterial;
  check(reason: 'forced'): Promise<TlsMaterial>;
}

function status(tls: TlsMaterial) {
  return {
    notAfter: tls.notAfter.toISOString(),
    daysLeft: Math.floor((tls.notAfter.getTime() - Date.now()) / 86_400_000),
    subjectAltNames: tls.subjectAltNames,
    caFingerprint: tls.caFingerprint,
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
  return router;
}
