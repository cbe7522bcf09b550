import { BeepError } from '../domain/errors';

// The request target, checked once at the edge of each listener before any router, parser or
// upgrade route sees it: every later `decodeURIComponent`, `new URL` or route match then
// works on a target known to be well formed.

/** A checked target: the origin-form path and query every later part sees. */
export interface RequestTarget {
  /** The path as sent (still percent-encoded), e.g. `/a%20b/json`. */
  pathname: string;
  /** `?…` or empty. */
  search: string;
}

const ABSOLUTE_FORM = /^https?:\/\//i;

function invalid(what: string): BeepError {
  return new BeepError('validation_failed', `The request target is not valid: ${what}.`);
}

/**
 * Checks a raw request target (`req.url`): origin-form (`/path?query`) or absolute-form
 * (`http://host:port/path?query`, which HTTP/1.1 servers must accept); anything else
 * (`*`, authority-form, a bad port, a malformed percent escape in the path) is a 400.
 * The query is left to the lenient parsers (URLSearchParams, querystring), which never throw;
 * leading slashes are collapsed to one.
 *
 *   parseTarget('/topic/json?since=all')  → { pathname: '/topic/json', search: '?since=all' }
 *   parseTarget('/%ZZ/ws')                → throws BeepError validation_failed
 */
export function parseTarget(raw: string | undefined): RequestTarget {
  if (!raw) throw invalid('empty');
  let pathname: string;
  let search: string;
  if (raw.startsWith('/')) {
    const q = raw.indexOf('?');
    pathname = q < 0 ? raw : raw.slice(0, q);
    search = q < 0 ? '' : raw.slice(q);
  } else if (ABSOLUTE_FORM.test(raw)) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw invalid('a malformed absolute URL');
    }
    // URL re-encodes the path it parsed; a malformed escape survives as written.
    pathname = url.pathname;
    search = url.search;
  } else {
    throw invalid('neither a path nor an absolute http(s) URL');
  }
  // `//host/…` or `/\host/…` is a path here, but an authority to anyone who later parses it
  // with `new URL(path, base)`: one leading slash only.
  pathname = pathname.replace(/^[/\\]+/, '/');
  try {
    decodeURIComponent(pathname);
  } catch {
    throw invalid('a malformed percent escape in the path');
  }
  return { pathname, search };
}

/** The target in origin form, as `req.url` is rewritten to once checked. */
export function originForm(target: RequestTarget): string {
  return `${target.pathname}${target.search}`;
}
