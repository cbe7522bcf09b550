import type { PostTarget } from './http-poster';

// The shape both systems take in the bench, so every scenario runs the same code on each.

/** One started relay process with its N clients connected and receiving. */
export interface RelayUnderTest {
  /** 'beep' or 'baseline', as the report's column heading. */
  readonly name: string;
  /** The relay's process id, for peak RSS and CPU time. */
  readonly pid: number;
  /** Where the bench posts notifications. */
  readonly postTarget: PostTarget;
  /** Clients whose socket closed before the end of the run, with the reasons. */
  unexpectedDisconnects(): string[];
  /** Extra measurements only this system offers (Beep: /metrics scrape time), by label. */
  extras(): Promise<Record<string, number>>;
  /** Closes the clients and stops the process; resolves with its exit code. */
  stop(): Promise<number | null>;
}
