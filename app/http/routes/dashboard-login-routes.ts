import express, { Router, type RequestHandler } from 'express';
import type { FailureBudget } from '../../auth/failure-limiter';
import { verifyAdminPassword } from '../../auth/admin-password';
import { matchTotpStep } from '../../auth/totp';
import type { TotpSteps } from '../../auth/totp-steps';
import { BeepError } from '../../domain/errors';
import { SESSION_COOKIE } from '../admin-auth';
import { requireJson } from '../edge';

// Dashboard login by password (+ TOTP when set up with `beep admin password set --totp`), for a
// browser on this PC without the CLI at hand. The one-time link stays the other way in.
// Only a same-origin JSON request can spend the login budget: any web page in the owner's
// browser can POST here, but not as JSON and not with our Origin, so it is refused before it
// counts and cannot lock the owner out.

export interface PasswordLoginDeps {
  /** Opens a session once the password (and TOTP) checked out (dashboard/DashboardSessions). */
  sessions: { open(): Promise<{ sessionId: string }>; readonly maxAgeSec: number };
  /** The stored bcrypt hash and TOTP secret; undefined while no password is set. */
  credentials: () => Promise<{ passwordHash: string; totpSecret: string | null } | undefined>;
  /** Failed logins per client address (a point reserved before bcrypt, refunded on success); bcrypt's cost alone does not stop a patient guesser. */
  limiter: FailureBudget;
  /** Each TOTP step logs in once (a replayed or older code is refused), across restarts. */
  totpSteps: TotpSteps;
  onLogin?: (address: string) => void;
  onFailure?: (address: string, reason: 'password' | 'totp') => void;
  now?: () => number;
}

/** bytes: a password (≤72) and a code fit easily; anything larger is refused unparsed. */
const MAX_LOGIN_BODY = 1024;

/**
 * Refuses what a browser sent from another page: a foreign or opaque ("null") Origin, or a
 * Sec-Fetch-Site other than same-origin / none (typed URL). Non-browser clients send neither.
 */
export const sameOriginOnly: RequestHandler = (req, _res, next) => {
  const origin = req.headers.origin?.toLowerCase();
  const site = req.headers['sec-fetch-site'];
  if (origin !== undefined && origin !== `http://${(req.headers.host ?? '').toLowerCase()}`) return next(new BeepError('forbidden_origin'));
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return next(new BeepError('forbidden_origin'));
  next();
};

export function dashboardLoginRoutes(deps: PasswordLoginDeps): Router {
  const router = Router();
  const now = deps.now ?? Date.now;

  router.get('/dashboard/login/options', async (_req, res) => {
    const credentials = await deps.credentials();
    res.json({ password: Boolean(credentials), totp: Boolean(credentials?.totpSecret) });
  });

  const checked = [sameOriginOnly, requireJson, express.json({ limit: MAX_LOGIN_BODY, strict: true })];
  router.post('/dashboard/login', ...checked, async (req, res) => {
    const credentials = await deps.credentials();
    if (!credentials) throw new BeepError('password_login_disabled');
    const address = req.socket.remoteAddress ?? 'unknown';
    const attempt = await deps.limiter.reserve(address);
    const { password, totp } = (req.body ?? {}) as { password?: unknown; totp?: unknown };
    const passwordOk = typeof password === 'string' && (await verifyAdminPassword(password, credentials.passwordHash));
    // The step is claimed only with the right password (a wrong one burns nothing), right after bcrypt (atomically: a file or Redis).
    const totpOk = !credentials.totpSecret || (passwordOk && (await claimStep(deps.totpSteps, credentials.totpSecret, totp, now())));
    if (!passwordOk || !totpOk) {
      deps.onFailure?.(address, passwordOk ? 'totp' : 'password');
      throw new BeepError('invalid_credentials');
    }
    await attempt.refund();
    const { sessionId } = await deps.sessions.open();
    deps.onLogin?.(address);
    res.setHeader('Set-Cookie', `${SESSION_COOKIE}=${sessionId}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${deps.sessions.maxAgeSec}`);
    res.status(204).end();
  });

  return router;
}

async function claimStep(steps: TotpSteps, secret: string, code: unknown, nowMs: number): Promise<boolean> {
  const step = matchTotpStep(secret, code, nowMs);
  return step !== null && (await steps.claim(secret, step));
}
