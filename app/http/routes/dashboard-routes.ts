import express, { Router, type RequestHandler } from 'express';
import path from 'node:path';
import type { ActivityFeed } from '../../dashboard/activity-feed';
import type { DashboardSession } from '../../dashboard/dashboard-sessions';
import type { StatsHistory } from '../../dashboard/stats-history';
import { BeepError } from '../../domain/errors';
import { SESSION_COOKIE, sessionCookie, tokenOnly } from '../admin-auth';

// The dashboard on the admin listener: one-time login links, the static app, its live feed
// (server-sent events, closed when the session it was opened with ends) and chart history.
// Panels read the ordinary admin API besides.

/** What the dashboard routes need from its sessions (dashboard/DashboardSessions). */
export interface DashboardSessionPort {
  createNonce(): Promise<{ nonce: string; expiresAt: string }>;
  redeem(nonce: string): Promise<{ sessionId: string; session: DashboardSession } | null>;
  get(sessionId: string | undefined): Promise<DashboardSession | undefined>;
  end(sessionId: string | undefined): Promise<void>;
  /** What hangs on the session here (a live feed) closes when it ends; undefined when there is no such session. */
  onEnd(sessionId: string | undefined, close: () => void): (() => void) | undefined;
  readonly maxAgeSec: number;
}

export interface DashboardDeps {
  sessions: DashboardSessionPort;
  feed: ActivityFeed;
  stats: StatsHistory;
  statsIntervalSec: number;
  /** The gateway's URL, for the settings the Tokens panel shows (ntfy / Gotify app server URL). */
  gatewayUrl?: () => string;
}

const WEB_DIR = path.join(__dirname, '..', '..', 'web', 'dashboard');
/** ms between SSE comments, so proxies and browsers keep an idle stream open. */
const SSE_HEARTBEAT_MS = 25_000;
const NONCE = /^[A-Za-z0-9_-]{43}$/;

const LINK_INVALID_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="color-scheme" content="light dark">
<title>Login link used · Beep</title><link rel="stylesheet" href="/dashboard/dashboard.css">
<link rel="icon" href="/dashboard/favicon.svg" type="image/svg+xml"></head>
<body><main class="notice"><h1>Beep</h1><h2>This login link was already used or has expired</h2>
<p>Each link works once, for a few minutes. Run <code>beep dashboard</code> on this PC for a new one,
or <a href="/dashboard/">log in with the dashboard password</a> if you set one.</p></main></body></html>`;

/** Public: the login link and the static files (they hold no data; the API behind them is gated). */
export function dashboardPublicRoutes(deps: DashboardDeps): Router {
  const router = Router();
  router.get('/dashboard/login', async (req, res) => {
    const nonce = typeof req.query.nonce === 'string' && NONCE.test(req.query.nonce) ? req.query.nonce : null;
    const redeemed = nonce ? await deps.sessions.redeem(nonce) : null;
    if (!redeemed) {
      res.status(401).type('html').send(LINK_INVALID_PAGE);
      return;
    }
    res.setHeader(
      'Set-Cookie',
      `${SESSION_COOKIE}=${redeemed.sessionId}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${deps.sessions.maxAgeSec}`,
    );
    res.redirect(303, '/dashboard/');
  });
  router.get('/', (_req, res) => res.redirect(302, '/dashboard/'));
  router.use('/dashboard', express.static(WEB_DIR, { index: 'index.html', maxAge: 0 }));
  return router;
}

/** Behind the admin gate (token or session). */
export function dashboardApiRoutes(deps: DashboardDeps): Router {
  const router = Router();

  router.post('/api/v1/dashboard/links', tokenOnly, async (req, res) => {
    const { nonce, expiresAt } = await deps.sessions.createNonce();
    res.status(201).json({ url: `http://${req.headers.host}/dashboard/login?nonce=${nonce}`, expiresAt });
  });

  router.get('/api/v1/dashboard/session', async (req, res) => {
    const session = await deps.sessions.get(sessionCookie(req));
    res.json({ csrfToken: res.locals.auth === 'session' ? (session?.csrfToken ?? null) : null, gatewayUrl: deps.gatewayUrl?.() ?? null });
  });

  router.post('/api/v1/dashboard/logout', async (req, res) => {
    await deps.sessions.end(sessionCookie(req));
    res.setHeader('Set-Cookie', `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`);
    res.status(204).end();
  });

  router.get('/api/v1/activity', (_req, res) => {
    res.json(deps.feed.recent());
  });

  router.get('/api/v1/activity/stream', activityStream(deps.feed, deps.sessions));

  router.get('/api/v1/stats', (_req, res) => {
    res.json({ intervalSec: deps.statsIntervalSec, points: deps.stats.points() });
  });

  return router;
}

function activityStream(feed: ActivityFeed, sessions: DashboardSessionPort): RequestHandler {
  return (req, res, next) => {
    // Small deltas (new entries, changed deliveries and dismissals) at most every 250 ms.
    const unsubscribe = feed.subscribe((delta) => res.write(`event: activity\ndata: ${JSON.stringify(delta)}\n\n`));
    if (!unsubscribe) return next(new BeepError('rate_limited', 'Too many dashboard tabs are listening.', { retryAfter: 30 }));
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    res.write('retry: 3000\n\n');
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), SSE_HEARTBEAT_MS);
    let forget: (() => void) | undefined;
    let open = true;
    const stop = (): void => {
      if (!open) return;
      open = false;
      clearInterval(heartbeat);
      unsubscribe();
      forget?.();
    };
    // Opened with a session cookie: logout or a password change ends the stream with the session.
    if (res.locals.auth === 'session') forget = sessions.onEnd(sessionCookie(req), () => (stop(), res.end()));
    res.on('close', stop);
  };
}
