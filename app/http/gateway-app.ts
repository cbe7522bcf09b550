import express, { Router, type Express } from 'express';
import Joi from 'joi';
import path from 'node:path';
import { BeepError } from '../domain/errors';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { PairingService } from '../pairing/pairing-service';
import { errorHandler, notFound, requestContext, requireJson } from './edge';

// The gateway listener (LAN, TLS): pairing, token refresh, the CA download, the phone app.

export interface GatewayDeps {
  pairing: PairingService;
  caCertPem: () => string;
  metrics: Metrics;
  logger: Logger;
  /** The Gotify and ntfy routers (before the JSON parser: they read their own bodies). */
  compat: Router[];
}

/** bytes: the gateway's JSON bodies are tiny; a larger one is hostile or broken. */
const MAX_GATEWAY_BODY = 4 * 1024;

const pairSchema = Joi.object({
  code: Joi.string().pattern(/^\d{8}$/).required(),
  name: Joi.string().trim().min(1).max(64).required(),
  platform: Joi.string().trim().min(1).max(32).default('unknown'),
  // Protocol extension: the topics this phone wants (absent or null = every topic).
  topics: Joi.array().items(Joi.string().pattern(/^[-_A-Za-z0-9]{1,64}$/)).min(1).max(100).unique().allow(null),
}).prefs({ abortEarly: true, convert: false });

const tokenSchema = Joi.object({
  refreshToken: Joi.string().pattern(/^[A-Za-z0-9_-]{20,200}$/).required(),
}).prefs({ convert: false });

function validate<T>(schema: Joi.ObjectSchema<T>, body: unknown, code: 'pairing_code_invalid' | 'refresh_token_invalid'): T {
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
    res.status(201).json(await deps.pairing.pair(input, req.socket.remoteAddress ?? 'unknown'));
  });
  router.post('/api/v1/token', requireJson, async (req, res) => {
    const { refreshToken } = validate(tokenSchema, req.body, 'refresh_token_invalid');
    res.json(await deps.pairing.refresh(refreshToken));
  });
  router.get('/ca.crt', (_req, res) => {
    res.type('application/x-pem-file').send(deps.caCertPem());
  });
  return router;
}

export function createGatewayApp(deps: GatewayDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestContext('gateway', deps.metrics));
  app.use((_req, res, next) => {
    res.setHeader('Strict-Transport-Security', 'max-age=31536000');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Security-Policy', "default-src 'self'; connect-src 'self'; object-src 'none'; frame-ancestors 'none'");
    next();
  });
  for (const router of deps.compat) app.use(router);
  app.use(express.json({ limit: MAX_GATEWAY_BODY, strict: true, type: 'application/json' }));
  app.use(apiRoutes(deps));
  app.use(express.static(path.join(__dirname, '..', 'web', 'phone'), { index: 'index.html', maxAge: 0 }));
  app.use(notFound);
  app.use(errorHandler(deps.logger));
  return app;
}
