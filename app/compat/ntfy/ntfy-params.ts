import type { IncomingHttpHeaders } from 'node:http';

// ntfy parameters come as HTTP headers (names case-insensitive, UTF-8 or RFC 2047 values) or
// as query parameters (lowercase names), each under its canonical name and its aliases
// (docs/publish.md and docs/subscribe/api.md, "List of all parameters").

export type Query = Record<string, unknown>;

/** Decodes RFC 2047 encoded words (=?UTF-8?B?…?= and =?UTF-8?Q?…?=). */
function decodeWords(value: string): string {
  return value.replace(/=\?utf-8\?([bq])\?([^?]*)\?=/gi, (_all, kind: string, text: string) =>
    kind.toLowerCase() === 'b'
      ? Buffer.from(text, 'base64').toString('utf8')
      : Buffer.from(
          text.replace(/_/g, ' ').replace(/=([0-9a-f]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
          'latin1',
        ).toString('utf8'),
  );
}

/** Reads ntfy parameters from one request. */
export class NtfyParams {
  constructor(
    private readonly headers: IncomingHttpHeaders,
    private readonly query: Query,
    /** Subscribe parameters are case-insensitive in the query too; publish ones are lowercase. */
    private readonly queryCaseInsensitive = false,
  ) {}

  /** The first of `names` present, header before query; undefined when none is. */
  get(names: readonly string[]): string | undefined {
    for (const name of names) {
      const header = this.headers[name];
      if (typeof header === 'string') return decodeWords(Buffer.from(header, 'latin1').toString('utf8'));
    }
    for (const name of names) {
      const value = this.queryValue(name);
      if (value !== undefined) return value;
    }
    return undefined;
  }

  /** Names (of `names`) that are present, for refusing unsupported parameters. */
  has(names: readonly string[]): boolean {
    return names.some((n) => typeof this.headers[n] === 'string' || this.queryValue(n) !== undefined);
  }

  private queryValue(name: string): string | undefined {
    const key = this.queryCaseInsensitive ? Object.keys(this.query).find((k) => k.toLowerCase() === name) : name;
    const value = key === undefined ? undefined : this.query[key];
    if (Array.isArray(value)) return typeof value[0] === 'string' ? value[0] : undefined;
    return typeof value === 'string' ? value : undefined;
  }
}

/** Publish parameters Beep reads, each with its aliases (lowercase). */
export const PUBLISH = {
  message: ['x-message', 'message', 'm'],
  title: ['x-title', 'title', 'ti', 't'],
  priority: ['x-priority', 'priority', 'prio', 'p'],
  tags: ['x-tags', 'tags', 'tag', 'ta'],
  click: ['x-click', 'click'],
  icon: ['x-icon', 'icon'],
  markdown: ['x-markdown', 'markdown', 'md'],
  delay: ['x-delay', 'delay', 'x-at', 'at', 'x-in', 'in'],
  cache: ['x-cache', 'cache'],
  actions: ['x-actions', 'actions', 'action'],
  attach: ['x-attach', 'attach', 'a'],
  filename: ['x-filename', 'filename', 'file', 'f'],
} as const;

/** Publish parameters ntfy documents that Beep cannot honour: refused, never silently dropped. */
export const UNSUPPORTED: Record<string, readonly string[]> = {
  'e-mail notifications': ['x-email', 'x-e-mail', 'email', 'e-mail', 'mail', 'e'],
  'phone calls': ['x-call', 'call'],
  'sequence ids (updating notifications)': ['x-sequence-id', 'sequence-id', 'sid'],
  templates: ['x-template', 'template', 'tpl'],
};

/** Subscribe parameters (docs/subscribe/api.md), each with its aliases. */
export const SUBSCRIBE = {
  poll: ['x-poll', 'poll', 'po'],
  since: ['x-since', 'since', 'si'],
  scheduled: ['x-scheduled', 'scheduled', 'sched'],
  id: ['x-id', 'id'],
  message: ['x-message', 'message', 'm'],
  title: ['x-title', 'title', 't'],
  priority: ['x-priority', 'priority', 'prio', 'p'],
  tags: ['x-tags', 'tags', 'tag', 'ta'],
} as const;

/** ntfy's truthy flag values ("1", "yes", "true"). */
export function isTrue(value: string | undefined): boolean {
  return value !== undefined && ['1', 'yes', 'true'].includes(value.trim().toLowerCase());
}
