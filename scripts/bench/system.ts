import type { PostTarget } from './http-poster';

// The shape every system under test takes (Beep and the two relays), so each scenario runs the
// same code on each of them.

/**
 * Beep, the afternoon relay (one broadcast per post), the relay emitting per socket with an ack,
 * or Beep's cluster (two nodes and their redis-server; the informational `cluster` scenario only).
 */
export type SystemKind = 'beep' | 'relay' | 'relay-ack' | 'cluster';

/** The systems BENCH_SYSTEMS chooses from, in the order of the report's columns (the cluster has its own scenario). */
export const SYSTEM_KINDS: readonly SystemKind[] = ['beep', 'relay', 'relay-ack'];

/** Column headings. */
export const SYSTEM_LABELS: Record<SystemKind, string> = { beep: 'Beep', relay: 'relay', 'relay-ack': 'relay+ack', cluster: '2 nodes' };

/** How a fleet connects its phones: which protocol, where, which CA, one token per phone. */
export interface FleetSpec {
  /** 'beep': /device namespace, `notifications {items}` acked with `{ack: ids}`; 'relay': `notification` events on `/`. */
  protocol: 'beep' | 'relay';
  /** The socket.io server's origin (https://host:port). */
  url: string;
  /** Per phone (parallel to tokens), when the phones are split between servers (the cluster); else every phone uses `url`. */
  urls?: string[];
  ca: string;
  tokens: string[];
}

/** One started server process (pinned to the server core), ready for posts and phones. */
export interface SystemUnderTest {
  readonly kind: SystemKind;
  /** The server's process id (the cluster: its first node's). */
  readonly pid: number;
  /** Every process of the server, whose CPU time and RSS add up to its cost (one, but for the cluster). */
  readonly pids: number[];
  /** The cluster's redis-server, whose share of the server's CPU the report shows. */
  readonly redisPid?: number;
  /** nowMs() when it announced itself (Beep: daemon.json appeared; a relay: printed its ports). */
  readonly readyAt: number;
  /** Where the bench posts notifications. */
  readonly postTarget: PostTarget;
  /** Where the bench posts when the server has several front doors (the cluster's nodes): they take turns. */
  readonly postTargets?: PostTarget[];
  /**
   * Makes `count` phones known and says how to connect them. Beep pairs each from its own
   * address, then restarts (pid, readyAt and postTarget change): read them after this.
   */
  preparePhones(count: number): Promise<FleetSpec>;
  /** What the server itself says is still undelivered (Beep: its devices' pending counts); for a report on lost receipts. */
  undelivered?(): Promise<string>;
  /** Frames sent to phones so far and the notifications they carried (Beep: its batch-size histogram), to show how batches formed. */
  frames?(): Promise<{ frames: number; items: number }>;
  /** Why the run is broken on the server's side (it exited), if it is. */
  problems(): string[];
  /** Stops the process (SIGTERM) and removes its temp dir; resolves with its exit code. */
  stop(): Promise<number | null>;
}
