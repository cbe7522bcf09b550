import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { RateLimiter } from '../auth/rate-limiter';
import { BeepError } from '../domain/errors';
import type { LogContext } from '../observability/log-context';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { clientAddress, edgeStamp, stampRequest, type EdgeStamp } from './client-address';
import type { ClientAddressLookup } from './client-addresses';
import { requestContext } from './edge';
import { asKnown, sendError, upgradeAnswer } from './error-answer';
import { InFlight } from './in-flight';
import type { IpGate } from './ip-gate';
import { setRateHeaders } from './rate-limit';
import { originForm, parseTarget } from './request-target';
import { familyOf, type Family } from './route-family';

// One edge per listener, in front of every HTTP request and every WebSocket upgrade alike:
// the target is checked (and rewritten to origin form), the client address decided once
// (trusted proxy hops, IPv4-mapped IPv6 normalised), the admin listener's Host checked, the
// per-IP gate applied with one violation accounting, requests in flight counted (a stop waits
// for them), and anything thrown answered in the shape of the route family it aimed at.

/** Claims an upgrade (returns true, then owns the socket) or leaves it to the next route. */
export type UpgradeRoute = (req: http.IncomingMessage, socket: Duplex, head: Buffer, url: URL) => boolean;

export interface EdgeOptions {
  listener: 'admin' | 'gateway';
  /** Trusted reverse proxies in front of this listener; 0 = X-Forwarded-For is ignored. */
  hops: number;
  /** Whether the ntfy and Gotify route families are served (their errors take their shapes). */
  compat: boolean;
  metrics: Metrics;
  logger: Logger;
  context?: LogContext;
  /** A Host check applied to requests and upgrades alike (the admin listener: loopback names only). */
  hostAllowed?: (host: string | undefined) => boolean;
  /** The per-IP gate and the budget that requests (unless a route picks another) and upgrades spend. */
  gate?: { gate: IpGate; budget: RateLimiter; scope: string };
  /** Behind the PROXY front: each connection's client address, from its balancer's header. */
  clients?: ClientAddressLookup;
}

const STOPPING = 'Beep is stopping; try again in a moment.';

/** The raw path of a target, for choosing an error's shape before the target is known to be valid. */
function rawPath(url: string | undefined): string {
  if (!url?.startsWith('/')) return '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** What a listener's express app and its server take from the edge. */
export class ListenerEdge {
  readonly inFlight: InFlight;
  /** open → draining (a stop began: answers close their connections, upgrades are refused) → closing (new requests get 503). */
  private phase: 'open' | 'draining' | 'closing' = 'open';

  constructor(private readonly options: EdgeOptions) {
    this.inFlight = new InFlight((n) => options.metrics.httpInFlight.set({ listener: options.listener }, n));
  }

  /** The family whose error shape a request gets. */
  familyOf(pathname: string, method = 'GET'): Family {
    return familyOf(pathname, this.options.compat, method);
  }

  /** The first handlers of the express app: request id and timing, then the edge's checks. */
  front(): RequestHandler[] {
    const { listener, metrics, context, logger } = this.options;
    return [requestContext(listener, metrics, context, logger), this.admitRequest];
  }

  /** Checks target, address and host of a request, tracks it, and settles the gate's accounting when it is answered. */
  private readonly admitRequest: RequestHandler = (req, res, next) => {
    res.locals.family = this.familyOf(rawPath(req.url), req.method);
    const address = clientAddress(req, this.options.hops, this.options.clients);
    res.locals.clientIp = address;
    const stamp = this.stamp(req, address);
    res.once('finish', () => stamp.settle(res.statusCode, res.locals.gateRefusal));
    this.inFlight.track(res, () => sendError(res, res.locals.family, new BeepError('unavailable', STOPPING)));
    if (this.phase !== 'open') res.setHeader('Connection', 'close');
    if (this.phase === 'closing') return next(new BeepError('unavailable', STOPPING));
    try {
      const target = parseTarget(req.url);
      req.url = originForm(target);
    } catch (error) {
      return next(error);
    }
    if (this.options.hostAllowed && !this.options.hostAllowed(req.headers.host)) return next(new BeepError('forbidden_host'));
    next();
  };

  /**
   * The per-IP gate as middleware, spending `budget` (default: the listener's); sets the
   * RateLimit-* headers and refuses with 429 (or ip_blocked).
   */
  guard(budget?: RateLimiter, scope?: string): RequestHandler {
    const gate = this.options.gate;
    if (!gate) return (_req, _res, next) => next();
    return (_req, res, next) => {
      gate.gate.admit(res.locals.clientIp, budget ?? gate.budget, scope ?? gate.scope).then((admission) => {
        if (admission.decision) setRateHeaders(res, admission.decision);
        if (!admission.refusal) return next();
        res.locals.gateRefusal = admission.refusal;
        next(admission.refusal);
      }, next);
    };
  }

  /** The last handler: anything thrown, answered in the request's family's shape. */
  errors(onInternal?: () => void): ErrorRequestHandler {
    return (error: unknown, req, res: Response, _next) => {
      const known = asKnown(error, this.options.logger, { requestId: res.locals.requestId, method: req.method, route: req.route?.path ?? 'unmatched' });
      if (known.code === 'internal') onInternal?.();
      sendError(res, res.locals.family ?? 'beep', known);
    };
  }

  /** Takes every upgrade of `server`: the edge's checks, then the first route that claims it; never a thrown error. */
  routeUpgrades(server: http.Server, routes: UpgradeRoute[]): void {
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => socket.destroy());
      const family = this.familyOf(rawPath(req.url));
      this.upgrade(req, socket, head, routes)
        .catch((error: unknown) => refuseUpgrade(req, socket, family, asKnown(error, this.options.logger, { context: 'upgrade' })))
        .catch(() => socket.destroy());
    });
  }

  private async upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, routes: UpgradeRoute[]): Promise<void> {
    const address = clientAddress(req, this.options.hops, this.options.clients);
    this.stamp(req, address);
    if (this.phase !== 'open') throw new BeepError('unavailable', STOPPING);
    const target = parseTarget(req.url);
    req.url = originForm(target);
    if (this.options.hostAllowed && !this.options.hostAllowed(req.headers.host)) throw new BeepError('forbidden_host');
    const gate = this.options.gate;
    if (gate) {
      const { refusal } = await gate.gate.admit(address, gate.budget, gate.scope);
      if (refusal) throw refusal;
    }
    if (socket.destroyed) return;
    const url = new URL('http://beep.invalid');
    url.pathname = target.pathname;
    url.search = target.search;
    for (const route of routes) if (route(req, socket, head, url)) return;
    throw new BeepError('not_found');
  }

  /** Stamps the request with its address and the one settle of the gate's accounting. */
  private stamp(req: http.IncomingMessage, address: string): EdgeStamp {
    const gate = this.options.gate?.gate;
    const metrics = this.options.metrics;
    const listener = this.options.listener;
    let settled = false;
    const stamp: EdgeStamp = {
      address,
      settle: (status, refusal) => {
        if (settled) return;
        settled = true;
        if (status >= 500) metrics.httpServerErrors.inc({ listener, status: String(status) });
        gate?.settle(address, status, refusal);
      },
    };
    stampRequest(req, stamp);
    return stamp;
  }

  /** A stop begins: new upgrades are refused, and every answer from now on closes its connection. */
  drain(): void {
    if (this.phase === 'open') this.phase = 'draining';
    for (const res of this.inFlight.responses()) if (!res.headersSent) res.setHeader('Connection', 'close');
  }

  /** The wait is over: a request whose headers arrive from now on is answered 503 at once. */
  close(): void {
    this.phase = 'closing';
  }
}

/** Answers a refused upgrade in the family's shape and closes; the edge's accounting hears the status. */
export function refuseUpgrade(req: http.IncomingMessage, socket: Duplex, family: Family, error: BeepError): void {
  edgeStamp(req)?.settle(error.status, error);
  if (socket.destroyed || socket.writableEnded) return;
  socket.end(upgradeAnswer(family, error));
}
