// The cluster's gateways as the app knows them (PROTOCOL.md §4, "Several gateways"): the node
// that served this page is preferred; when the one in use cannot be reached the app tries the
// others in turn, and while on another it probes the preferred one to go back to it.

/** ms between probes of the preferred node while connected through another (jittered to [½, 1]). */
export const PREFERRED_PROBE_MS = 10_000;
/** Nodes kept from an answer: a cluster is a few PCs; a longer list is broken or hostile. */
const MAX_NODES = 32;

/** The https origins of a `nodes` list from a pairing or refresh answer; anything else is dropped. */
export function validNodes(list) {
  if (!Array.isArray(list)) return [];
  const nodes = [];
  for (const entry of list.slice(0, MAX_NODES)) {
    if (typeof entry?.url !== 'string') continue;
    try {
      const url = new URL(entry.url);
      if (url.protocol !== 'https:') continue;
      nodes.push({ url: url.origin, id: typeof entry.id === 'string' ? entry.id.slice(0, 64) : url.host });
    } catch {
      /* not a URL: skipped */
    }
  }
  return nodes;
}

/** The preferred node first, then the others of the last list, round-robin. */
export class NodeRoster {
  constructor(preferred, known = []) {
    this.preferred = preferred;
    this.nodes = [];
    this.nodes = this.withPreferred(validNodes(known));
  }

  /** Replaces the list with a newer one (the preferred node always stays). */
  update(list) {
    const nodes = validNodes(list);
    if (nodes.length > 0) this.nodes = this.withPreferred(nodes);
  }

  /** The node after `url` (the preferred one after the last, and for an unknown URL). */
  next(url) {
    const i = this.nodes.findIndex((n) => n.url === url);
    return this.nodes[(i + 1) % this.nodes.length].url;
  }

  /** What to call the node at `url` when saying which PC is in use. */
  name(url) {
    return this.nodes.find((n) => n.url === url)?.id ?? new URL(url).host;
  }

  withPreferred(list) {
    const preferred = [...list, ...this.nodes].find((n) => n.url === this.preferred) ?? { url: this.preferred, id: new URL(this.preferred).host };
    const all = [preferred, ...list.filter((n) => n.url !== this.preferred)];
    return all.filter((n, i) => all.findIndex((m) => m.url === n.url) === i);
  }
}
