import { publicOrigin } from '../config/public-url';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import type { Router } from 'express';
import type { Server as SocketServer } from 'socket.io';
import type { TokenService } from '../auth/token-service';
import type { BeepConfig } from '../config/schema';
import { CONNECTION_CHECK_MS, PROXY_REFUSAL_LOG_WINDOW_MS, SOCKET_AUTH_TIMEOUT_MS } from '../config/defaults';
import { EventThrottle } from '../gateway/event-throttle';
import type { DeviceDirectory } from '../gateway/device-directory';
import { attachDeviceNamespace } from '../gateway/device-namespace';
import { createSocketServer, type GatewaySockets, type SocketServerOptions } from '../gateway/socket-server';
import { createAdminApp, type AdminDeps } from '../http/admin-app';
import { isLoopbackHost } from '../http/admin-auth';
import { createGatewayApp } from '../http/gateway-app';
import { addressOf } from '../http/client-address';
import { admitConnection, ConnectionGate, guardConnections } from '../http/connection-gate';
import { IpGate } from '../http/ip-gate';
import { ListenerEdge } from '../http/listener-edge';
import { ProxyFront } from '../http/proxy-front';
import { proxyRefusals } from '../http/proxy-refusals';
import type { AuditLog } from '../observability/audit-log';
import { LeakInjector } from '../observability/leak-injector';
import type { LogContext } from '../observability/log-context';
import type { Metrics } from '../observability/metrics';
import type { PairingService } from '../pairing/pairing-service';
import type { LogFor } from './observability';
import type { Relay } from './relay';
import type { Limits } from './security';
import { tlsOptions, type TlsState } from './tls';
import { portHolder } from '../util/port-holder';
import { toWire, type Attachment, type StoredNotification } from '../domain/notification';
import type { ActionService } from '../compat/ntfy/action-service';

// The listeners: their edges, the admin HTTP server (loopback), the gateway HTTPS server with
// socket.io behind its edge, binding them, the gateway URL pairing hands out, and closing them
// at stop.

/** One edge per listener: every request and upgrade of that listener passes it. */
export interface Edges {
  admin: ListenerEdge;
  gateway: ListenerEdge;
}

/** The gateway's PROXY front when balancers are configured (README: "Behind a load balancer"); its address book is the gateway edge's. */
export function buildProxyFront(config: BeepConfig, metrics: Metrics, log: LogFor): ProxyFront | undefined {
  const { from, headerTimeoutMs } = config.gateway.proxyProtocol;
  if (from.length === 0) return undefined;
  const onRefused = proxyRefusals(metrics, log('gateway'), PROXY_REFUSAL_LOG_WINDOW_MS);
  return new ProxyFront({ from, headerTimeoutMs, openingTimeoutMs: config.gateway.timeouts.tlsHandshakeMs, onRefused });
}

/** Builds both edges: the admin's loopback Host check; the gateway's trusted hops and per-IP gate (and the PROXY front's client addresses). */
export function buildEdges(config: BeepConfig, metrics: Metrics, limits: Limits, log: LogFor, context?: LogContext, proxy?: ProxyFront): Edges {
  const compat = config.compat.enabled;
  const gate = new IpGate(limits.limits.blocker, { onLimited: (scope) => limits.hooks.onLimited(scope), onBlocked: limits.hooks.onBlocked });
  return {
    admin: new ListenerEdge({ listener: 'admin', hops: 0, compat, metrics, logger: log('admin'), context, hostAllowed: isLoopbackHost }),
    gateway: new ListenerEdge({
      listener: 'gateway',
      hops: config.gateway.trustProxyHops,
      compat,
      metrics,
      logger: log('gateway'),
      context,
      gate: { gate, budget: limits.limits.perIp, scope: 'gateway_ip' },
      clients: proxy?.addresses,
    }),
  };
}

/** How long a client may take to send a request, and to come back on a kept-alive connection (both listeners). */
function httpTimeouts(config: BeepConfig) {
  const t = config.gateway.timeouts;
  return { headersTimeout: t.headersMs, requestTimeout: t.requestMs, keepAliveTimeout: t.keepAliveMs, connectionsCheckingInterval: CONNECTION_CHECK_MS };
}

/** Builds the admin API and dashboard server (not yet listening). */
export function buildAdminServer(config: BeepConfig, deps: Omit<AdminDeps, 'leakInjector' | 'crashInjection'>, log: LogFor): http.Server {
  const { leakInjection, crashInjection } = config.diagnostics;
  if (leakInjection) log('diagnostics').warn('diagnostic leak injection is enabled (diagnostics.leakInjection)');
  if (crashInjection) log('diagnostics').warn('diagnostic crash injection is enabled (diagnostics.crashInjection)');
  return http.createServer(
    httpTimeouts(config),
    createAdminApp({
      ...deps,
      leakInjector: leakInjection ? new LeakInjector() : undefined,
      crashInjection,
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
  /** Cluster mode: the origins of the cluster's gateways (their phone pages may connect and refresh here). */
  peerOrigins?: () => ReadonlySet<string>;
}

/** Builds the gateway HTTPS server (pairing, unpair, CA download, the phone app; not yet listening). */
export function buildGatewayServer(config: BeepConfig, tls: TlsState, parts: GatewayParts & { compat: Router[]; edge: ListenerEdge; proxy?: ProxyFront }): https.Server {
  const { pairing, tokens, directory, limits, metrics } = parts;
  const server = https.createServer(
    { ...tlsOptions(config, tls.current), ...httpTimeouts(config), handshakeTimeout: config.gateway.timeouts.tlsHandshakeMs },
    createGatewayApp({
      pairing,
      caCertPem: () => tls.current.caCertPem,
      unpair: { verify: (token) => tokens.verify(token), revoke: (id) => directory.revoke(id) },
      edge: parts.edge,
      limits: { staticPerIp: limits.limits.staticPerIp, tokenPerIp: limits.limits.tokenPerIp, onLimited: limits.hooks.onLimited },
      compat: parts.compat,
      peerOrigins: parts.peerOrigins,
    }),
  );
  // Per-address connection caps, before any TLS work; a client that fails its handshake is just dropped.
  const connections = new ConnectionGate(config.gateway.connections, Date.now);
  const onRefused = (reason: string) => metrics.rateLimited.inc({ scope: reason });
  server.on('tlsClientError', (_error, socket) => socket.destroy());
  // Behind a balancer the PROXY front decides each connection's client address first, and caps connections under it.
  if (parts.proxy) parts.proxy.install(server, admitConnection(connections, onRefused));
  else guardConnections(server, connections, onRefused);
  return server;
}

/** The recent history a newly paired device asked for, handed over once (store/ implements it). */
export interface PairingHistory {
  takePairingHistory(deviceId: string, limit: number): Promise<StoredNotification[]>;
}

/** Cluster mode's part of the gateway sockets: the adapter, and device leases tied to sockets (composition/cluster.ts). */
export interface SocketCluster {
  adapter: SocketServerOptions['adapter'];
  claim: (deviceId: string, close: () => void) => Promise<string>;
  release: (deviceId: string, lease: string) => void;
}

/** Builds socket.io for the gateway (its handshakes reach it through the gateway edge's upgrade route) and the `/device` namespace (auth, throttle, delivery, dismiss). */
export function buildSockets(
  config: BeepConfig,
  parts: GatewayParts & { audit: AuditLog; relay: Relay; pairingHistory: PairingHistory; actions?: ActionService; links?: { pathOf(a: Attachment): string | null }; cluster?: SocketCluster },
  log: LogFor,
  context?: LogContext,
): GatewaySockets {
  const { tokens, directory, metrics, audit, relay } = parts;
  const { limits } = parts.limits;
  const sockets = createSocketServer({
    maxBatch: config.queue.maxBatch,
    authTimeoutMs: SOCKET_AUTH_TIMEOUT_MS,
    onRefused: (reason) => metrics.rateLimited.inc({ scope: reason }),
    adapter: parts.cluster?.adapter,
    peerOrigins: parts.peerOrigins,
  });
  const { io } = sockets;
  const gatewayLog = log('gateway');
  const rl = config.rateLimits;
  attachDeviceNamespace(io, {
    verify: (token) => tokens.verify(token),
    throttle: () =>
      new EventThrottle({ ratePerSec: rl.socketEventsPerSec, burst: rl.socketEventBurst, disconnectAfter: rl.socketFloodDisconnectAfter }, Date.now),
    perDevice: limits.perDevice,
    addressOf: (socket) => addressOf(socket.request),
    authenticated: sockets.authenticated,
    onLimited: (scope) => metrics.rateLimited.inc({ scope }),
    onFloodDisconnect: (deviceId, address) => {
      gatewayLog.warn('socket flooded events; disconnected', { deviceId, address });
      void audit.record('socket_flood', `device:${deviceId}`, { deviceId, address });
    },
    delivery: relay.delivery,
    // The desktop close of a captured notification follows on the bus (composition/capture.ts).
    dismiss: (id, byDevice) => relay.dismiss(id, byDevice),
    setTopics: (deviceId, topics) => directory.setTopics(deviceId, topics),
    history: (deviceId) => parts.pairingHistory.takePairingHistory(deviceId, config.auth.pairingHistoryMax).then((list) => list.map((n) => toWire(n, parts.links && ((a) => parts.links!.pathOf(a))))),
    maxDismissIds: config.queue.maxBatch,
    performAction: parts.actions ? (deviceId, id, action) => parts.actions!.perform(deviceId, id, action) : undefined,
    onAuthFailure: (code, address) => {
      gatewayLog.warn('socket authentication failed', { code, address });
      void audit.record('auth_failed', `ip:${address}`, { channel: 'socket', code });
    },
    onError: (error, where) => gatewayLog.error('socket error', { context: where, error: String(error) }),
    runEvent: context ? (fn) => context.event(fn) : undefined,
    claim: parts.cluster?.claim,
    release: parts.cluster?.release,
  });
  return sockets;
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

/**
 * A LAN IPv4 address of this machine that the server certificate covers (`covered`: its SAN
 * labels, 'IP:192.168.1.20'): a phone given an address outside them would refuse the
 * certificate, and a name-constrained CA leaves public addresses out.
 */
function lanAddress(covered: readonly string[]): string | undefined {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal && covered.includes(`IP:${a.address}`)) return a.address;
  }
  return undefined;
}

/** The gateway URL a pairing QR code carries: gateway.publicUrl, else the public host, else a covered LAN address when bound to all. */
export function gatewayUrl(config: BeepConfig, port: number, covered: readonly string[]): string {
  if (config.gateway.publicUrl) return publicOrigin(config.gateway.publicUrl);
  const bound = config.gateway.host;
  const host =
    config.gateway.publicHost ??
    (bound === '0.0.0.0' || bound === '::' ? (lanAddress(covered) ?? 'localhost') : bound === '127.0.0.1' ? 'localhost' : bound);
  return `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

type Server = http.Server | https.Server;

/** ms the last 503s and stream ends of a stop get to be written before every connection is dropped. */
const FINAL_WRITE_MS = 300;

/**
 * A stop's first step: both edges drain (answers close their connections, upgrades are
 * refused) and the servers stop accepting connections. Resolves once every connection is gone
 * (after `closeConnections`).
 */
export function stopAccepting(edges: Edges | undefined, servers: (Server | undefined)[]): Promise<void> {
  edges?.admin.drain();
  edges?.gateway.drain();
  const built = servers.filter((s): s is Server => s !== undefined);
  const closed = built.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
  for (const s of built) s.closeIdleConnections();
  return Promise.all(closed).then(() => undefined);
}

/**
 * Waits (up to `ms`) until every request whose headers were read has at least begun its
 * answer; from then on both edges answer new requests 503 at once.
 */
export async function awaitAnswers(edges: Edges | undefined, ms: number): Promise<void> {
  if (!edges) return;
  await Promise.all([edges.admin.inFlight.answered(ms), edges.gateway.inFlight.answered(ms)]);
  edges.admin.close();
  edges.gateway.close();
}

/** Closes socket.io and its connections (devices reconnect to the next process). */
export function closeSockets(io: SocketServer | undefined): Promise<void> {
  return new Promise<void>((resolve) => (io ? io.close(() => resolve()) : resolve()));
}

/**
 * A stop's last step, once nothing can be committed any more: what is still unanswered gets
 * 503, streams end, and every connection closes once those answers are written.
 */
export async function closeConnections(edges: Edges | undefined, servers: (Server | undefined)[], closed: Promise<void>): Promise<void> {
  // One turn first, so that writes the store's close just committed answer their requests (2xx).
  await new Promise((resolve) => setImmediate(resolve));
  const inFlight = edges ? [edges.admin.inFlight, edges.gateway.inFlight] : [];
  for (const requests of inFlight) requests.refuseRemaining();
  await Promise.all(inFlight.map((requests) => requests.settled(FINAL_WRITE_MS)));
  for (const s of servers) s?.closeAllConnections();
  await closed;
}
