import type { TlsMaterial } from './crypto/certificates';
import type { Delivery } from './delivery/delivery';
import { HealthChecks, type Check, type CheckOutcome } from './observability/health';
import type { MemoryWatch } from './observability/memory-watch';
import type { DesktopSource } from './sources/source';

// The components /health/detailed reports on, each ok / degraded / down with a reason. Built
// by daemon.ts; kept apart so the composition root stays a list of parts.

/** What the database check reads: a round trip, the file's size and cap, the read pool. */
export interface DatabaseHealth {
  ping(): Promise<void>;
  size(): { bytes: number; maxBytes: number | null };
  pool: { stats(): { size: number; alive: number; busy: number; waiting: number; lastFailure: string | null } };
}

export interface HealthParts {
  store: DatabaseHealth;
  delivery: () => Delivery;
  tls: () => TlsMaterial;
  memory: MemoryWatch;
  sources: () => CheckOutcome;
  timeoutMs: number;
  cacheTtlMs: number;
  /** More checks by name (cluster mode: `redis`). */
  extra?: Record<string, Check>;
}

/** Share of the size cap past which the database is degraded: posts will soon get 503. */
const DB_FULL_WARNING = 0.9;
/** days before certificate expiry when it is degraded (renewal should have happened). */
const CERT_WARNING_DAYS = 7;

async function database(store: DatabaseHealth): Promise<CheckOutcome> {
  await store.ping();
  const { bytes, maxBytes } = store.size();
  const details = { sizeMb: Math.round(bytes / 10485.76) / 100, pool: store.pool.stats() };
  if (maxBytes && bytes >= maxBytes * DB_FULL_WARNING) {
    const pct = Math.round((bytes / maxBytes) * 100);
    return { status: 'degraded', reason: `database is at ${pct}% of its ${Math.round(maxBytes / 1048576)} MB cap (store.maxSizeMb)`, ...details };
  }
  const { lastFailure } = details.pool;
  if (lastFailure) return { status: 'degraded', reason: `a read connection failed: ${lastFailure}`, ...details };
  return { status: 'ok', ...details };
}

function certificate(tls: TlsMaterial): CheckOutcome {
  const days = (tls.notAfter.getTime() - Date.now()) / 86_400_000;
  const status = days <= 0 ? 'down' : days < CERT_WARNING_DAYS ? 'degraded' : 'ok';
  const reason = status !== 'ok' ? { reason: days <= 0 ? 'the certificate has expired' : `expires in ${days.toFixed(1)} days` } : {};
  return { status, expiresAt: tls.notAfter.toISOString(), daysLeft: Math.floor(days), ...reason };
}

/**
 * ok while every source is attached or merely absent; degraded when a configured one cannot
 * attach. An enabled source that is not capturing is named even when ok, so `beep status` and
 * the dashboard never say "ok" while desktop capture is not running.
 */
export function sourcesHealth(sources: DesktopSource[]): CheckOutcome {
  const details = Object.fromEntries(sources.map((s) => [s.name, s.status()]));
  const notCapturing = sources.filter((s) => s.status().state === 'waiting');
  const failing = notCapturing.filter((s) => s.status().expected);
  const active = ['http', ...sources.filter((s) => s.status().state === 'attached').map((s) => s.name)];
  const why = notCapturing.map((s) => `${s.name} waiting: ${s.status().reason}`).join('; ');
  if (failing.length) return { status: 'degraded', reason: why, active, ...details };
  if (notCapturing.length) {
    return { status: 'ok', reason: `desktop capture is not running, ${why}; only what is posted over HTTP, ntfy or Gotify is relayed`, active, ...details };
  }
  return { status: 'ok', active, ...details };
}

export function buildHealthChecks(parts: HealthParts): HealthChecks {
  return new HealthChecks(
    {
      database: () => database(parts.store),
      queue: () => ({ status: 'ok', depth: parts.delivery().depthByPriority(), connectedDevices: parts.delivery().connected }),
      certificate: () => certificate(parts.tls()),
      memory: () => parts.memory.check(),
      sources: parts.sources,
      ...parts.extra,
    },
    { timeoutMs: parts.timeoutMs, cacheTtlMs: parts.cacheTtlMs },
  );
}
