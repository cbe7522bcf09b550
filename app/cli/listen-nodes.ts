// The cluster's gateways as `beep listen` knows them (PROTOCOL.md §4, the `nodes` list of pairing
// and refresh answers): the node it paired through is preferred; when the one it uses cannot be
// reached it tries the others round-robin with jittered, capped backoff, and while on another it
// probes the preferred one now and then to go back to it.

/** One gateway of the cluster as pairing and refresh answers list it. */
export interface GatewayNode {
  url: string;
  /** The node's id (embedded mode: the PC's host name). */
  id: string;
}

/** ms before the first retry after a connection was lost or refused; doubles up to the cap. */
export const RETRY_MIN_MS = 1_000;
/** ms: the longest wait between two attempts, however many nodes failed. */
export const RETRY_MAX_MS = 30_000;
/** ms between probes of the preferred node while connected through another (jittered to [½, 1]). */
export const PREFERRED_PROBE_MS = 10_000;
/** Nodes kept from an answer: a cluster is a few PCs; a longer list is broken or hostile. */
const MAX_NODES = 32;

/** The wait before attempt `attempt` (0-based): within [ceiling/2, ceiling], ceiling = min(cap, min·2^attempt). */
export function retryDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(attempt, 16));
  return Math.round(ceiling * (0.5 + random() / 2));
}

/** The https origins of a `nodes` list from an answer; anything else is dropped. */
export function validNodes(list: unknown): GatewayNode[] {
  if (!Array.isArray(list)) return [];
  const nodes: GatewayNode[] = [];
  for (const entry of list.slice(0, MAX_NODES)) {
    const { url, id } = (entry ?? {}) as { url?: unknown; id?: unknown };
    if (typeof url !== 'string') continue;
    try {
      const parsed = new URL(url);
      if (parsed.protocol !== 'https:') continue;
      nodes.push({ url: parsed.origin, id: typeof id === 'string' ? id : parsed.host });
    } catch {
      /* not a URL: skipped */
    }
  }
  return nodes;
}

/** The preferred node, then the others of the last list, round-robin. */
export class NodeRoster {
  private nodes: GatewayNode[] = [];

  constructor(
    readonly preferred: string,
    known: GatewayNode[] = [],
  ) {
    this.nodes = this.withPreferred(known);
  }

  /** Replaces the list with the one an answer carried (the preferred node always stays). */
  update(list: GatewayNode[]): void {
    if (list.length > 0) this.nodes = this.withPreferred(list);
  }

  /** Every node known now, the preferred one first. */
  get all(): GatewayNode[] {
    return [...this.nodes];
  }

  /** The node after `url` in the list (the preferred one after the last, and for an unknown URL). */
  next(url: string): string {
    const i = this.nodes.findIndex((n) => n.url === url);
    return this.nodes[(i + 1) % this.nodes.length].url;
  }

  /** What to call the node at `url` when saying which one is in use. */
  name(url: string): string {
    return this.nodes.find((n) => n.url === url)?.id ?? new URL(url).host;
  }

  private withPreferred(list: GatewayNode[]): GatewayNode[] {
    // A list without the preferred node (it is down now) keeps the name it had.
    const preferred = [...list, ...this.nodes].find((n) => n.url === this.preferred) ?? { url: this.preferred, id: new URL(this.preferred).host };
    return [preferred, ...list.filter((n) => n.url !== this.preferred)].filter((n, i, all) => all.findIndex((m) => m.url === n.url) === i);
  }
}
