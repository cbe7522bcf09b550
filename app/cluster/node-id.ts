import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readIfExists } from '../util/secure-file';

// A node's name in the cluster: chosen once and kept in the data directory, so a restarted
// node is the same node (in the node registry, in device leases) and two nodes never share one
// unless someone copied the file (README: copy the master key, never node-id).

/** The file under the data directory that holds it. */
export const NODE_ID_FILE = 'node-id';

/** The configured id, else the one kept in <data dir>/node-id (created on first start: host name + random suffix). */
export function loadOrCreateNodeId(dataDir: string, configured: string | null): string {
  if (configured) return configured;
  const file = path.join(dataDir, NODE_ID_FILE);
  const existing = readIfExists(file)?.trim();
  if (existing) return existing;
  const host = os.hostname().replace(/[^A-Za-z0-9_.-]/g, '').slice(0, 40) || 'node';
  const id = `${host}-${crypto.randomBytes(4).toString('hex')}`;
  fs.writeFileSync(file, `${id}\n`, { mode: 0o644 });
  return id;
}
