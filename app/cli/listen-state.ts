import fs from 'node:fs';
import { writeSecretFile } from '../util/secure-file';
import type { GatewayNode } from './listen-nodes';

// What `beep listen` keeps between runs (mode 0600): where the gateway is, its CA, the
// device's tokens, and the ids it has already shown (its own dedupe).

export interface ListenState {
  /** The node it paired through: preferred whenever it answers. */
  gatewayUrl: string;
  /** The cluster's gateways from the last pairing or refresh answer (absent in a state saved before them). */
  nodes?: GatewayNode[];
  caPem: string;
  deviceId: string;
  accessToken: string;
  refreshToken: string;
  /** ms since epoch when the access token expires. */
  accessExpiresAt: number;
  /** Most recent ids shown, oldest first. */
  seen: string[];
}

/** ids remembered for dedupe: far more than the unacknowledged window (4 × 64). */
export const SEEN_LIMIT = 5_000;

export function loadListenState(file: string): ListenState | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as ListenState;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${file} is not a readable listen state (${(error as Error).message}); delete it to pair again`);
  }
}

export function saveListenState(file: string, state: ListenState): void {
  if (state.seen.length > SEEN_LIMIT) state.seen = state.seen.slice(-SEEN_LIMIT);
  writeSecretFile(file, JSON.stringify(state));
}
