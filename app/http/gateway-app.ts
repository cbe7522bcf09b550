import { peerConnectSources, peerCors, type PeerOrigins } from './peer-origins';
import express, { Router, type Express } from 'express';
import helmet from 'helmet';
import Joi from 'joi';
import fs from 'node:fs';
import path from 'node:path';
import { BeepError } from '../domain/errors';
import { parseTopicList } from '../compat/topics';
import type { PairingService } from '../pairing/pairing-service';
import type { RateLimiter } from '../auth/rate-limiter';
import { addressOf } from './client-address';
import { jsonDepthGuard, notFound, requireJson } from './edge';
import type { ListenerEdge } from './listener-edge';
import { rateLimit } from './rate-limit';
import { unpairRoute, type UnpairDeps } from './routes/unpair-route';
import { SOCKET_IO_PATH } from '../gateway/socket-server';

// The gateway listener (LAN, TLS): pairing, token refresh, the CA download, the phone app.

export interface GatewayDeps {
  pairing: PairingService;
  caCertPem: () => string;
  unpair: UnpairDeps;
  /** The gateway's edge: target, address, per-IP gate (on its budget for the API), error mapper. */
  edge: ListenerEdge;
  /** The Gotify and ntfy routers (before the JSON parser: they read their own bodies). */
  compat: Router[];
  /** Cluster mode: the origins of the cluster's gateways (their pages may refresh tokens here). */
  peerOrigins?: PeerOrigins;
  limits: {
    /** The phone app's static files: their own, larger budget (spent through the edge's gate). */
    staticPerIp: RateLimiter;
    tokenPerIp: RateLimiter;
    onLimited?: (scope: string) => void;
  };
}

const PHONE_DIR = path.join(__dirname, '..', 'web', 'phone');

/** True for `/` and paths of files the phone app ships (checked once per path, then cached). */
function phoneFileCheck(): (urlPath: string) => boolean {
  const known = new Map<string, boolean>();
  return (urlPath) => {
    if (urlPath === '/') return true;
    let hit = known.get(urlPath);
    if (hit === undefined) {
      hit = false;
      try {
        const file = path.resolve(PHONE_DIR, `.${decodeURIComponent(urlPath)}`);
        hit = file.startsWith(PHONE_DIR + path.sep) && fs.statSync(file, { throwIfNoEntry: false })?.isFile() === true;
      } catch {
        // A malformed escape is no file of ours.
      }
      if (known.size < MAX_KNOWN_PATHS) known.set(urlPath, hit);
    }
    return hit;
  };
}

/** Paths remembered by the phone-file check (the app has a few dozen files; misses are bounded too). */
const MAX_KNOWN_PATHS = 512;

/** Nesting a gateway body may have: its bodies are flat objects. */
export const MAX_JSON_DEPTH = 8;

/** bytes: the gateway's JSON bodies are tiny; a larger one is hostile or broken. */
const MAX_GATEWAY_BODY = 4 * 1024;

const pairSchema = Joi.object({
  code: Joi.string().pattern(/^\d{8}$/).required(),
  name: Joi.string().trim().min(1).max(64).required(),
  platform: Joi.string().trim().min(1).max(32).default('unknown'),
  // Protocol extension: the topics this phone wants (absent or null = every topic).
  topics: Joi.array().items(Joi.string().pattern(/^[-_A-Za-z0-9]{1,64}$/)).min(1).max(100).unique().allow(null),
  // Protocol extension: show this phone the recent history (when the pairing code offers it).
  history: Joi.boolean().default(false),
}).prefs({ abortEarly: true, convert: false });

const tokenSchema = Joi.object({
  refreshToken: Joi.string().pattern(/^[A-Za-z0-9_-]{20,200}$/).required(),
}).prefs({ convert: false });

function validate<T>(schema: Joi.ObjectSchema<T>, body: unknown, code: 'pairing_code_invalid' | 'refresh_token_invalid'): T {
  // Joi lets `undefined` through an optional object: a body that never became one is refused here.
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BeepError('validation_failed', 'The body must be a JSON object.');
  const { value, error } = schema.validate(body);
  if (!error) return value;
  const detail = error.details[0];
  if (detail.type === 'object.unknown') throw new BeepError('unknown_field', detail.message);
  const field = String(detail.path[0] ?? '');
  // A malformed code or token is as wrong as a bad one: same status and code, no oracle.
  if (field === 'code' || field === 'refreshToken') throw new BeepError(code);
  throw new BeepError('validation_failed', detail.message);
}

function apiRoutes(deps: GatewayDeps): Router {
  const router = Router();
  router.post('/api/v1/pair', requireJson, async (req, res) => {
    const input = validate(pairSchema, req.body, 'pairing_code_invalid');
    if (input.topics) parseTopicList(input.topics); // reserved names (api, health, …) refused as everywhere else
    res.status(201).json(await deps.pairing.pair(input, addressOf(req)));
  });
  const tokenLimit = rateLimit({ scope: 'token_ip', limiter: deps.limits.tokenPerIp, onLimited: deps.limits.onLimited });
  router.options('/api/v1/token', peerCors(deps.peerOrigins));
  router.post('/api/v1/token', peerCors(deps.peerOrigins), tokenLimit, requireJson, async (req, res) => {
    const { refreshToken } = validate(tokenSchema, req.body, 'refresh_token_invalid');
    res.json(await deps.pairing.refresh(refreshToken));
  });
  // Another node's page checks this CA against its pin before connecting here (peer-origins.ts).
  router.get('/ca.crt', peerCors(deps.peerOrigins), (_req, res) => {
    res.type('application/x-pem-file').send(deps.caCertPem());
  });
  return router;
}

export function createGatewayApp(deps: GatewayDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const { edge } = deps;
  app.use(edge.front());
  // Strict CSP: scripts and styles only from this origin, never inline; HSTS for a year.
  // No CORS middleware: a browser on another origin gets no Access-Control-* grant.
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          // A cluster's other gateways too: the page fails over to them (peer-origins.ts).
          connectSrc: ["'self'", peerConnectSources(deps.peerOrigins)],
          objectSrc: ["'none'"],
          baseUri: ["'none'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
        },
      },
      strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: false },
    }),
  );
  // The phone app's files first, on their own budget (one app load is ~30 requests); anything
  // not a file falls through to the API's per-IP budget below.
  const isPhoneFile = phoneFileCheck();
  const staticGuard = edge.guard(deps.limits.staticPerIp);
  const phoneFiles = express.static(PHONE_DIR, { index: 'index.html', maxAge: 0 });
  app.use((req, res, next) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !isPhoneFile(req.path)) return next();
    staticGuard(req, res, (error?: unknown) => (error ? next(error) : phoneFiles(req, res, next)));
  });
  app.use(edge.guard());
  // socket.io is WebSocket only: its handshakes arrive as upgrades (the edge routes them).
  app.all(SOCKET_IO_PATH, () => {
    throw new BeepError('validation_failed', 'socket.io is served over WebSocket only (transports: ["websocket"]).');
  });
  // After the gate (compat routes spend the same per-IP budget), before the JSON parser (they read
  // their own bodies); topic names never shadow the routes and files below (compat/topics.ts).
  for (const router of deps.compat) app.use(router);
  app.use(
    express.json({ limit: MAX_GATEWAY_BODY, strict: true, type: 'application/json', verify: jsonDepthGuard(MAX_JSON_DEPTH) }),
  );
  app.use(apiRoutes(deps));
  app.use(unpairRoute(deps.unpair));
  app.use(notFound);
  app.use(edge.errors());
  return app;
}
