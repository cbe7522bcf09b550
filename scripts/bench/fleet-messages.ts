import type { FleetPhaseResult } from './phone-receipts';
import type { FleetSpec } from './system';

// The messages between the bench's main thread and a phone-fleet worker thread. Every command
// gets exactly one reply, in order; `lost` may come at any time.

/** What a fleet worker starts with. */
export interface FleetWorkerData {
  /** The fleet's share of the phones (tokens[i] is phone firstPhone + i). */
  spec: FleetSpec;
  firstPhone: number;
  /** Int32Array over it: see PROGRESS_TICK in phone-receipts.ts. */
  progress: SharedArrayBuffer;
  /** Phones connecting at once. */
  connectConcurrency: number;
}

/** Commands from the main thread. */
export type ToFleet =
  | { type: 'connect' }
  | { type: 'phase'; phase: string; capacity: number; trackLatency: boolean }
  | { type: 'missing'; accepted: Uint8Array }
  | { type: 'end-phase'; accepted: Uint8Array }
  | { type: 'close' };

/** Replies (and `lost` reports) from a fleet. */
export type FromFleet =
  | { type: 'connected'; startedAt: number; connectedAt: number }
  | { type: 'failed'; message: string }
  | { type: 'phase-ready' }
  | { type: 'missing'; missing: number }
  | { type: 'phase-result'; result: FleetPhaseResult }
  | { type: 'closed' }
  | { type: 'lost'; message: string };
