import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import type { Router } from 'express';
import type { Server as SocketServer } from 'socket.io';
import type { TokenService } from '../auth/token-service';
import type { BeepConfig } from '../config/schema';
import { SOCKET_AUTH_TIMEOUT_MS } from '../config/defaults';
import { EventThrottle } from '../gateway/event-throttle';
import type { DeviceDirectory } from '../gateway/device-directory';
import { attachDeviceNamespace } from '../gateway/device-namespace';
import { createSocketServer } from '../gateway/socket-server';
import { createAdminApp, type AdminDeps } from '../http/admin-app';
import { createGatewayApp } from '../http/gateway-app';
import { clientIp } from '../http/rate-limit';
import type { AuditLog } from '../observability/audit-log';
import { LeakInjector } from '../observability/leak-injector';
import type { LogContext } from '../observability/log-context';
import type { Metrics } from '../observability/metrics';
import type { PairingService } from '../pairing/pairing-service';
import type { DesktopSource } from '../sources/source';
import type { LogFor } from './observability';
import type { Relay } from './relay';
import type { Limits } from './security';
import { tlsOptions, type TlsState } from './tls';
import { portHolder } from '../util/port-holder';

// The listeners: the admin HTTP server (loopback), the gateway HTTPS server with socket.io
// on it, binding them, the gateway URL pairing hands out, and closing them at stop.

/** Builds the admin API and dashboard server (not yet listening). */
export function buildAdminServer(config: BeepConfig, deps: Omit<AdminDeps, 'logger' | 'leakInjector'>, log: LogFor): http.Server {
  if (config.diagnostics.leakInjection) log('diagnostics').warn('diagnostic leak injection is enabled (diagnostics.leakInjection)');
  return http.createServer(
    createAdminApp({
      ...deps,
      logger: log('admin'),
      leakInjector: config.diagnostics.leakInjection ? new LeakInjector() : undefined,
    }),
  );
}

/** Parts the gateway's HTTP routes and its socket.io namespace use. */
export interface GatewayParts {
  pairing: PairingService;
  tokens: TokenService;
  directory: DeviceDirectory;
  metrics: Metrics;
  limits: Limits;
}

/** Builds the gateway HTTPS server (pairing, unpair, CA download, the phone app; not yet listening). */
export function buildGatewayServer(
  config: BeepConfig,
  tls: TlsState,
  parts: GatewayParts & { compat: Router[] },
  log: LogFor,
  context?: LogContext,
): https.Server {
  const { pairing, tokens, directory, metrics, limits } = parts;
  return https.createServer(
    tlsOptions(config, tls.current),
    createGatewayApp({
      pairing,
      caCertPem: () => tls.current.caCertPem,
      unpair: { verify: (token) => tokens.verify(token), revoke: (id) => directory.revoke(id) },
      metrics,
      logger: log('gateway'),
      context,
      limits: { ...limits.limits, hooks: limits.hooks },
      compat: parts.compat,
    }),
  );
}

/** Puts socket.io on the gateway and attaches the `/device` namespace (auth, throttle, delivery, dismiss). */
export function attachSockets(
  config: BeepConfig,
  gateway: https.Server,
  parts: GatewayParts & { audit: AuditLog; relay: Relay; sources: () => DesktopSource[] },
  log: LogFor,
  context?: LogContext,
): SocketServer {
  const { tokens, directory, metrics, audit, relay } = parts;
  const { limits, hooks } = parts.limits;
  const addressOf = (req: http.IncomingMessage) => clientIp(req, config.gateway.trustProxyHops);
  const io = createSocketServer(gateway, {
    maxBatch: config.queue.maxBatch,
    authTimeoutMs: SOCKET_AUTH_TIMEOUT_MS,
    perIp: limits.perIp,
    blocker: limits.blocker,
    addressOf,
    onRefused: (reason) => metrics.rateLimited.inc({ scope: reason === 'origin' ? 'origin' : reason }),
    onBlocked: hooks.onBlocked,
  });
  const gatewayLog = log('gateway');
  const rl = config.rateLimits;
  attachDeviceNamespace(io, {
    verify: (token) => tokens.verify(token),
    throttle: () =>
      new EventThrottle({ ratePerSec: rl.socketEventsPerSec, burst: rl.socketEventBurst, disconnectAfter: rl.socketFloodDisconnectAfter }, Date.now),
    perDevice: limits.perDevice,
    addressOf: (socket) => addressOf(socket.request),
    onLimited: (scope) => metrics.rateLimited.inc({ scope }),
    onFloodDisconnect: (deviceId, address) => {
      gatewayLog.warn('socket flooded events; disconnected', { deviceId, address });
      void audit.record('socket_flood', `device:${deviceId}`, { deviceId, address });
    },
    delivery: relay.delivery,
    dismiss: async (id, byDevice) => {
      const found = await relay.dismiss(id, byDevice);
      // A captured notification is closed on the desktop it came from.
      if (found) for (const source of parts.sources()) void source.closeOnDesktop(id);
      return found;
    },
    setTopics: (deviceId, topics) => directory.setTopics(deviceId, topics),
    maxDismissIds: config.queue.maxBatch,
    onAuthFailure: (code, address) => {
      gatewayLog.warn('socket authentication failed', { code, address });
      void audit.record('auth_failed', `ip:${address}`, { channel: 'socket', code });
    },
    onError: (error, where) => gatewayLog.error('socket error', { context: where, error: String(error) }),
    runEvent: context ? (fn) => context.event(fn) : undefined,
  });
  return io;
}

/** Binds a server; resolves with the port it got (port 0 picks a free one). */
export function listen(server: http.Server | https.Server, port: number, host: string, which: 'gateway' | 'admin'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE' ? new Error(portInUse(which, host, port)) : error));
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Says what holds the port (when this user can see it) and how to pick another. */
function portInUse(which: 'gateway' | 'admin', host: string, port: number): string {
  const holder = portHolder(port);
  const by = holder ? `by pid ${holder.pid} (${holder.command})` : 'by another program';
  return (
    `the ${which} port ${host}:${port} is already in use ${by}; choose another with --${which}-port <port> ` +
    `or BEEP_${which.toUpperCase()}_PORT (or "${which}": {"port": …} in config.json; 0 = any free port)`
  );
}

function lanAddress(): string | undefined {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

/** The gateway URL a pairing QR code carries: the public host, else a LAN address when bound to all. */
export function gatewayUrl(config: BeepConfig, port: number): string {
  const bound = config.gateway.host;
  const host =
    config.gateway.publicHost ??
    (bound === '0.0.0.0' || bound === '::' ? (lanAddress() ?? 'localhost') : bound === '127.0.0.1' ? 'localhost' : bound);
  return `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Closes socket.io, then each built server (dropping its open connections). */
export async function closeServers(io: SocketServer | undefined, servers: (http.Server | https.Server | undefined)[]): Promise<void> {
  await new Promise<void>((resolve) => (io ? io.close(() => resolve()) : resolve()));
  for (const server of servers) {
    if (!server) continue;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
