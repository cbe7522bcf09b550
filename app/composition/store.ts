import type { BeepConfig } from '../config/schema';
import type { FieldCipher } from '../crypto/field-cipher';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { Store } from '../store/store';

// The SQLite store: opened from the config (sealed by the field cipher, whose keys
// composition/security.ts loads next), then measured once the metrics exist. daemon.ts hands
// each part the adapter of its port (store.outbox, store.accounts, ...), never the store whole.

/** Opens the database and its adapters; nothing is written before the data keys are loaded. */
export function openStore(config: BeepConfig, cipher: FieldCipher, logger: Logger): Store {
  return new Store({
    sealer: cipher,
    dataDir: config.dataDir,
    durability: config.store.durability,
    groupCommitMaxOps: config.store.groupCommitMaxOps,
    groupCommitWindowMs: config.store.groupCommitWindowMs,
    readPoolSize: config.store.readPoolSize,
    readPoolIdleMs: config.store.readPoolIdleSec * 1000,
    lockWaitMs: config.store.lockWaitMs,
    maxQueuedWrites: config.store.maxQueuedWrites,
    onCheckpointError: (error) => logger.warn('WAL checkpoint failed; the next commit tries again', { component: 'store', error: String(error) }),
    maxSessionsPerDevice: config.auth.maxSessionsPerDevice,
    maxBytes: config.store.maxSizeMb ? config.store.maxSizeMb * 1024 * 1024 : undefined,
  });
}

/** Commit and read-pool timings into the metrics; a failed group commit logged. */
export function measureStore(store: Store, metrics: Metrics, logger: Logger): void {
  store.observe({
    onCommit: (seconds, size, ok) => {
      metrics.commitDuration.observe({ outcome: ok ? 'ok' : 'failed' }, seconds);
      metrics.commitGroupSize.observe(size);
      if (!ok) logger.error('group commit failed', { component: 'store', size });
    },
    onAcquire: (seconds) => metrics.readAcquire.observe(seconds),
  });
}
