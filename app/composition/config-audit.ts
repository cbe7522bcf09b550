import crypto from 'node:crypto';
import type { BeepConfig } from '../config/schema';
import type { AuditLog } from '../observability/audit-log';

// The config_changed audit event: a fingerprint of the effective settings compared with the
// last run's, and the flattened keys that differ. Secret values are never recorded.

/** Where the last run's settings are found: the newest `config_changed` entry's details. */
export interface LastAuditDetails {
  lastAuditDetails(event: 'config_changed'): Promise<Record<string, unknown> | undefined>;
}

/** Records `config_changed` when the effective configuration differs from the last run's. */
export async function recordConfigChange(config: BeepConfig, store: LastAuditDetails, audit: AuditLog): Promise<void> {
  const { encryption, ...rest } = config;
  // A fingerprint of the settings, never their secret values (the passphrase is only flagged).
  const shown = { ...rest, encryption: { ...encryption, passphrase: encryption.passphrase ? 'set' : null } };
  const fingerprint = crypto.createHash('sha256').update(JSON.stringify(shown)).digest('hex');
  const last = await store.lastAuditDetails('config_changed');
  if (last?.fingerprint === fingerprint) return;
  const before = (last?.settings ?? {}) as Record<string, unknown>;
  const now = flatten(shown);
  const changed = Object.keys(now).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(now[k]));
  await audit.record('config_changed', 'system', { fingerprint, changed: last ? changed : ['(first start)'], settings: now });
}

/** Nested settings as dotted keys (`store.retentionDays`), so a change names the exact setting. */
export function flatten(value: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, flatten(v as Record<string, unknown>, `${prefix}${k}.`));
    else out[`${prefix}${k}`] = v;
  }
  return out;
}
