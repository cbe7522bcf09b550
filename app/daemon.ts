import fs from 'node:fs';
import type http from 'node:http';
import type https from 'node:https';
import type { Server as SocketServer } from 'socket.io';
import { memoryLimiters } from './auth/limiter-factory';
import { buildActions } from './composition/actions';
import { buildRules, buildSources } from './composition/capture';
import { buildAttachments } from './composition/attachments';
import { buildCompat, type Compat } from './composition/compat';
import { recordConfigChange } from './composition/config-audit';
import { buildDevices } from './composition/devices';
import type { ClusterNode } from './composition/cluster';
import { clusterPorts, embeddedPorts, PORTS_STILL_LOCAL } from './composition/ports';
import type { ClusterRelayBus } from './cluster/cluster-relay-bus';
import { buildDashboard, buildHealth, buildMonitoring, type LogFor, type Monitoring } from './composition/observability';
import { buildRelay, startPruning, type Relay } from './composition/relay';
import { measureStore, openStore } from './composition/store';
import { buildLimits, buildTokens, openAuditLog, openDataKeys, openSigningKeys, openVault } from './composition/security';
import {
  awaitAnswers,
  buildAdminServer,
  buildEdges,
  buildProxyFront,
  buildGatewayServer,
  buildSockets,
  closeConnections,
  closeSockets,
  gatewayUrl,
  listen,
  stopAccepting,
  type Edges,
} from './composition/servers';
import type { ProxyFront } from './http/proxy-front';
import { SHUTDOWN_DRAIN_MS } from './config/defaults';
import { buildRenewer, loadTls, type TlsState } from './composition/tls';
import { clusterRotate, followClusterAuthority } from './composition/cluster-ca';
import type { BeepConfig } from './config/schema';
import type { CertificateRenewer } from './crypto/certificate-renewer';
import { loadOrCreateAdminToken, removeRuntimeInfo, writeRuntimeInfo } from './discovery';
import type { LogContext } from './observability/log-context';
import type { Logger } from './observability/logger';
import type { DesktopSource } from './sources/source';
import type { Attachment } from './domain/notification';
import type { Store } from './store/store';
import { acquireDataDirLock, type DataDirLock } from './store/data-dir-lock';
import { VERSION } from './version';

// The composition root: builds every part from the config, starts them in order, stops them
// in reverse. Each group of parts is built by a small builder in composition/, given what it
// needs explicitly. Nothing imports this file but main.ts and the bench.

export interface Daemon {
  start(): Promise<void>;
  stop(): Promise<void>;
  addresses(): { gatewayPort: number; adminPort: number };
}

/** Builds the daemon; nothing runs until `start`, and `stop` is safe after a failed start. */
export function createDaemon(config: BeepConfig, logger: Logger, context?: LogContext): Daemon {
  const log: LogFor = (component) => logger.child({ component });
  let tls: TlsState;
  let monitoring: Monitoring | undefined;
  let store: Store | undefined;
  let relay: Relay | undefined;
  let sources: DesktopSource[] = [];
  let compat: Compat | undefined;
  let renewer: CertificateRenewer | undefined;
  let stopSigningKeyRotation: (() => void) | undefined;
  let stopPruning: (() => void) | undefined;
  let stopSweeping: (() => void) | undefined;
  let stopAudit: (() => Promise<void>) | undefined;
  const servers: { admin?: http.Server; gateway?: https.Server; io?: SocketServer } = {};
  let edges: Edges | undefined;
  let proxyFront: ProxyFront | undefined;
  let ports = { gatewayPort: 0, adminPort: 0 };
  let lock: DataDirLock | undefined;
  let cluster: ClusterNode | undefined;

  async function start(): Promise<void> {
    fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    lock = acquireDataDirLock(config.dataDir);
    const adminToken = loadOrCreateAdminToken(config.dataDir);
    const clustered = Boolean(config.cluster.redisUrl);
    if (!clustered) tls = await loadTls(config, log);
    const fileSigningKeys = openSigningKeys(config);
    const vault = openVault(config);
    // Cluster mode: Redis is opened and checked first (a refusal, or another master key, stops the
    // start with its reason); the certificates load after the cluster's CA is in certs/.
    // Loaded only in cluster mode: the embedded daemon never holds ioredis and the adapter in memory.
    const node = clustered ? (cluster = await (await import('./composition/cluster')).openCluster(config, vault, log, [fileSigningKeys.current()])) : undefined;
    if (node) {
      tls = await loadTls(config, log);
      // One CA for the cluster: replaced in Redis under a lease, then swapped in by every node.
      tls.rotate = clusterRotate(tls, node, log('certificates'));
    }
    const signingKeys = node?.trust.signingKeys ?? fileSigningKeys;
    const local = PORTS_STILL_LOCAL.length > 0 ? `still on this node: ${PORTS_STILL_LOCAL.join(', ')}` : 'every store port is on Redis';
    if (node) log('cluster').warn(`cluster mode: node ${node.nodeId}; ${local}`, { nodeId: node.nodeId, prefix: node.keys.prefix });
    const db: Store = (store = openStore(config, vault.cipher, logger));
    const stores = node ? clusterPorts(db, node) : embeddedPorts(db);
    const mon: Monitoring = (monitoring = buildMonitoring(config, log, {
      delivery: () => relay?.delivery,
      tls: () => tls.current,
      deviceName: async (id): Promise<string> => (await stores.deviceAdmin.nameOf(id)) ?? id.slice(0, 8),
      writer: () => db.writer.state(),
    }));
    const { metrics } = mon;
    // Cluster mode: every series says which node it comes from (one value per node: bounded).
    if (node) metrics.registry.setDefaultLabels({ node: node.nodeId });
    measureStore(db, metrics, logger);
    const audit = await openAuditLog(config, stores.audit, metrics, log, await node?.joinAudit());
    stopAudit = () => audit.stop();
    const attachments = buildAttachments(config, { db: db.db, writer: db.writer, pool: db.pool, notifications: stores.history }, vault.cipher, log);
    const sharedKeys = node && { currentId: () => node.trust.currentDataKey(), rotate: () => node.trust.rotateDataKey() };
    const { keys } = await openDataKeys(config, db, vault, audit, log, attachments?.files, stores.dataKeys, sharedKeys);
    await recordConfigChange(config, stores.audit, audit);

    const rules = buildRules(config, log);
    let clusterBus: ClusterRelayBus | undefined;
    // Token revocations go to the other nodes only once API token ids are the cluster's (on Redis).
    const sharedTokens = !PORTS_STILL_LOCAL.some((p) => p.startsWith('apiTokens'));
    const clusterRelay = node && {
      wrapBus: (local: Parameters<ClusterNode['bus']>[0]) => (clusterBus = node.bus(local, sharedTokens)),
      connectedDevices: () => node.connectedDevices(),
    };
    const core = (relay = buildRelay(config, { outbox: stores.outbox, delivery: stores.delivery, scheduled: stores.scheduled }, mon, rules.engine, log, attachments?.links, clusterRelay));
    sources = buildSources(config, core, { desktopIds: stores.desktopIds, positions: db.sourcePositions }, log, metrics);
    const limits = buildLimits(config, metrics, audit, log, node?.limiters ?? memoryLimiters());
    const signing = await buildTokens(config, signingKeys, stores.accounts, audit, log);
    stopSigningKeyRotation = signing.stop;
    const { tokens } = signing;
    const pairingAddress = { gatewayUrl: () => gatewayUrl(config, ports.gatewayPort, tls.current.subjectAltNames), caFingerprint: () => tls.current.caFingerprint, nodes: node && (() => node.gatewayNodes()) };
    const devices = { accounts: stores.accounts, deviceAdmin: stores.deviceAdmin, tokens, delivery: core.delivery, bus: core.bus, metrics, audit, budgets: limits.budgets };
    const { pairing, directory } = buildDevices(config, devices, pairingAddress, log, node && ((ids) => node.registry.holders(ids)));
    const health = buildHealth(config, db, mon.watch, { delivery: () => core.delivery, tls: () => tls.current, sources: () => sources }, node && { redis: () => node.health() });
    const { dashboard, passwordLogin, credentials } = buildDashboard(config, stores.adminCredentials, audit, mon, limits.budgets.dashboardLogin, pairingAddress.gatewayUrl, node && { sessions: node.dashboardSessions, totpSteps: node.totpSteps });
    const certificates = (renewer = buildRenewer(config, tls, () => gateway, audit, log));
    if (node) followClusterAuthority(certificates, tls, node);
    const storage = { tokens: stores.apiTokens, history: stores.topicHistory, credentials: () => stores.adminCredentials.adminCredentials(), ping: () => db.ping() };
    const apis = (compat = buildCompat(config, { storage, ingest: core.ingest, hub: core.hub, bus: core.bus, metrics, audit, budgets: limits.budgets, dismiss: (id: string) => core.dismiss(id, null), attachments: attachments?.ntfy }, log));
    const fileRoutes = attachments ? [attachments.router] : [];
    const topicsOf = async (id: string) => (await stores.deviceAdmin.activeDevices()).find((d) => d.id === id && !d.revokedAt)?.topics;
    const relink = attachments ? [attachments.relinkRouter({ verify: (token) => tokens.verify(token), topicsOf })] : [];
    const uploads = attachments ? [attachments.uploadRouter((source, parse) => core.ingest.receive(source, parse))] : [];

    proxyFront = buildProxyFront(config, metrics, log);
    edges = buildEdges(config, metrics, limits, log, context, proxyFront);
    const adminParts = { token: adminToken, certificates, audit, keys, credentials, ingest: core.ingest, rules: rules.admin, history: stores.history, scheduled: core.scheduler, attachmentLink: attachments && ((a: Attachment) => attachments.links.pathOf(a)) };
    const adminPanels = { pairing, directory, health, metrics, dashboard, passwordLogin, tokens: apis.apiTokens, compat: [...fileRoutes, ...uploads, ...apis.admin.routers] };
    const admin = (servers.admin = buildAdminServer(config, { ...adminParts, ...adminPanels, edge: edges.admin }, log));
    const gatewayParts = { pairing, tokens, directory, metrics, limits, peerOrigins: node && (() => node.gatewayOrigins()) };
    const gateway = (servers.gateway = buildGatewayServer(config, tls, { ...gatewayParts, compat: [...fileRoutes, ...relink, ...apis.gateway.routers], edge: edges.gateway, proxy: proxyFront }));
    const actions = buildActions(config, { lookup: stores.accounts, dismiss: (id, by) => core.dismiss(id, by), audit }, log);
    const socketCluster = node && {
      adapter: node.adapter,
      claim: async (deviceId: string, close: () => void) => (await node.leases.claim(deviceId, close)).lease,
      // After the socket's last progress write (Delivery.detach started it).
      release: (deviceId: string, lease: string) => void core.delivery.settled().then(() => node.leases.release(deviceId, lease)).catch(() => undefined),
    };
    const sockets = buildSockets(config, { ...gatewayParts, audit, relay: core, pairingHistory: stores.accounts, actions, links: attachments?.links, cluster: socketCluster }, log, context);
    servers.io = sockets.io;
    if (node && clusterBus) node.attachControl(sockets.io, clusterBus);
    // Every upgrade passes its listener's edge, then the first route that claims it.
    edges.admin.routeUpgrades(admin, apis.admin.upgrades);
    edges.gateway.routeUpgrades(gateway, [sockets.route, ...apis.gateway.upgrades]);

    ports = {
      adminPort: await listen(admin, config.admin.port, config.admin.host, 'admin'),
      gatewayPort: await listen(gateway, config.gateway.port, config.gateway.host, 'gateway'),
    };
    // The outbox reader is the node's only path from a commit to its bus (every lower seq first).
    await node?.start(core.bus, () => ({ version: VERSION, ...ports, gatewayUrl: pairingAddress.gatewayUrl() }), core.scheduler);
    writeRuntimeInfo(config.dataDir, { pid: process.pid, ...ports, caFingerprint: tls.current.caFingerprint, version: VERSION, ...(node ? { nodeId: node.nodeId } : {}) });
    stopPruning = startPruning(config, node?.retention ?? db, log);
    stopSweeping = attachments?.startSweeping();
    // What fell due while the daemon was down goes now; the rest when due.
    await core.scheduler.start();
    for (const source of sources) source.start();
    mon.start();
    certificates.start();
    logger.info('beep is running', { ...ports, dataDir: config.dataDir, caFingerprint: tls.current.caFingerprint });
  }

  /**
   * Stops accepting, answers every request whose headers were read (2xx once committed, else
   * 503) and only then closes: PROTOCOL.md's 5 s hold (SHUTDOWN_DRAIN_MS for the answers).
   */
  async function stop(): Promise<void> {
    const listeners = [servers.admin, servers.gateway];
    const closed = stopAccepting(edges, listeners);
    // Gateway connections still owing their PROXY header (or first bytes) are idle: they close with the idle ones.
    proxyFront?.closePending();
    stopPruning?.();
    stopSweeping?.();
    await Promise.all(sources.map((s) => s.stop()));
    // Streams never finish on their own: they end now; then the requests in flight get their answers.
    relay?.hub.closeAll();
    compat?.handshakes.close();
    await awaitAnswers(edges, SHUTDOWN_DRAIN_MS);
    relay?.ingest.close();
    await relay?.scheduler.stop();
    monitoring?.stop();
    renewer?.stop();
    stopSigningKeyRotation?.();
    await relay?.delivery.closeAll();
    await closeSockets(servers.io);
    await cluster?.stop();
    // Open audit windows are written while the store still takes writes.
    await stopAudit?.();
    // Commits what is queued (those requests get their 2xx) and refuses any later write, so a
    // request answered 503 below can never be stored after all.
    await store?.close();
    await closeConnections(edges, listeners, closed);
    removeRuntimeInfo(config.dataDir);
    lock?.release();
  }

  return { start, stop, addresses: () => ports };
}
