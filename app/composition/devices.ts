import os from 'node:os';
import type { TokenService } from '../auth/token-service';
import type { BeepConfig } from '../config/schema';
import type { Delivery } from '../delivery/delivery';
import type { RelayBus } from '../delivery/relay-bus';
import { DeviceDirectory, type DirectoryStore } from '../gateway/device-directory';
import type { AuditLog } from '../observability/audit-log';
import type { Metrics } from '../observability/metrics';
import { PairingService, type GatewayNode, type PairingStore } from '../pairing/pairing-service';
import type { LogFor } from './observability';
import type { Budgets } from './security';

// Devices: pairing (codes, attempt limits, refresh rotation) and the directory that renames,
// filters and revokes them. Every security-relevant step is logged and audited.

/** What pairing tells a new phone: where the gateway is and which CA to pin. */
export interface PairingAddress {
  gatewayUrl: () => string;
  caFingerprint: () => string;
  /** Cluster mode: the gateways of the nodes alive now (embedded: this gateway alone). */
  nodes?: () => Promise<GatewayNode[]>;
}

/** Builds pairing and the device directory; a reused refresh token or a revoke signs the device out. */
export function buildDevices(
  config: BeepConfig,
  parts: { accounts: PairingStore; deviceAdmin: DirectoryStore; tokens: TokenService; delivery: Delivery; bus: RelayBus; metrics: Metrics; audit: AuditLog; budgets: Budgets },
  address: PairingAddress,
  log: LogFor,
  /** Cluster mode: which node holds each phone. */
  holders?: (deviceIds: string[]) => Promise<Map<string, string>>,
) {
  const { accounts, deviceAdmin, tokens, delivery, bus, metrics, audit, budgets } = parts;
  const pairingLog = log('pairing');
  const pairing = new PairingService(
    accounts,
    tokens,
    { perIp: budgets.pairingPerIp, perCode: budgets.pairingPerCode },
    {
      codeTtlSec: config.auth.pairingCodeTtlSec,
      refreshTtlDays: config.auth.refreshTokenTtlDays,
      gatewayUrl: address.gatewayUrl,
      caFingerprint: address.caFingerprint,
      nodes: address.nodes ?? (async () => [{ url: address.gatewayUrl(), id: os.hostname() }]),
      historyHours: config.auth.pairingHistoryHours,
    },
    {
      onPaired: (d, ip) => {
        pairingLog.info('device paired', { deviceId: d.id, platform: d.platform });
        void audit.record('device_paired', `ip:${ip}`, { deviceId: d.id, platform: d.platform });
      },
      onFailedAttempt: (ip) => {
        pairingLog.warn('failed pairing attempt', { ip });
        void audit.record('pairing_failed', `ip:${ip}`, { reason: 'pairing_code_invalid' });
      },
      onLockedOut: (scope, ip) => {
        pairingLog.warn('pairing locked out', { scope, ip });
        void audit.record('pairing_locked_out', `ip:${ip}`, { scope, windowSec: config.rateLimits.pairingWindowSec });
      },
      onRefused: (scope) => metrics.rateLimited.inc({ scope: `pairing_${scope}` }),
      onRefreshReuse: (deviceId) => {
        pairingLog.warn('refresh token reused; device signed out', { deviceId });
        void audit.record('refresh_token_reused', `device:${deviceId}`, { deviceId, action: 'family revoked, tokens invalidated' });
        void bus.deviceRevoked(deviceId);
      },
    },
  );
  const directory = new DeviceDirectory(deviceAdmin, delivery, (id) => {
    log('devices').info('device revoked', { deviceId: id });
    void audit.record('device_revoked', 'admin', { deviceId: id });
    void bus.deviceRevoked(id);
  }, holders);
  return { pairing, directory };
}
