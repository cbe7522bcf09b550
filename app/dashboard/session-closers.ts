// What hangs on each dashboard session (its live feeds), by the session's stored key: run once
// when the session ends, whichever store (memory or the cluster's Redis) decided it ended.

/** The close callbacks of each session; bounded by the live feeds, which unsubscribe when they end. */
export class SessionClosers {
  private readonly byKey = new Map<string, Set<() => void>>();

  /** Runs `close` when session `key` ends; returns the unsubscribe. */
  add(key: string, close: () => void): () => void {
    const set = this.byKey.get(key) ?? new Set<() => void>();
    this.byKey.set(key, set);
    set.add(close);
    return () => {
      set.delete(close);
      if (set.size === 0 && this.byKey.get(key) === set) this.byKey.delete(key);
    };
  }

  /** Session `key` ended: runs and forgets what hung on it. */
  end(key: string): void {
    const closers = this.byKey.get(key);
    this.byKey.delete(key);
    for (const close of closers ?? []) close();
  }

  /** The sessions something hangs on now. */
  keys(): string[] {
    return [...this.byKey.keys()];
  }
}
