import { validNodes } from './nodes.js';

// The device's credentials (PROTOCOL.md, gateway listener): pair with a one-time code, keep
// the tokens in IndexedDB, refresh the access token before it expires, unpair.

/** Refresh once this share of the access token's life is used up. */
const REFRESH_AT = 0.8;
/** One refresh at a time across every tab: refresh tokens rotate, a second use signs us out. */
const REFRESH_LOCK = 'beep-token-refresh';

/** A failure the user should read; `code` is the gateway's stable error code. */
export class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }

  /** The credentials are dead for good: pair again. */
  get signedOut() {
    return ['refresh_token_invalid', 'refresh_token_reused', 'device_revoked'].includes(this.code);
  }
}

async function postJson(path, body, headers = {}) {
  const response = await fetch(path, {
    method: 'POST',
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
  });
  const text = await response.text();
  let data;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!response.ok) {
    const error = data?.error ?? {};
    const retry = Number(response.headers.get('retry-after')) || undefined;
    throw new ApiError(response.status, error.code ?? `http_${response.status}`, error.message ?? `HTTP ${response.status}`, retry);
  }
  return data;
}

function withLock(fn) {
  return navigator.locks ? navigator.locks.request(REFRESH_LOCK, fn) : fn();
}

function expiry(answer, now) {
  return { accessIssuedAt: now, accessExpiresAt: now + answer.accessExpiresIn * 1000 };
}

/** Holds the credentials; every tab has one, they agree through IndexedDB and a Web Lock. */
export class Session {
  constructor(store) {
    this.store = store;
    /** The gateway refreshes go through: '' = this page's, else another node's origin (set by Connection). */
    this.via = '';
  }

  credentials() {
    return this.store.get('credentials');
  }

  /** POST /api/v1/pair; throws ApiError (401 pairing_code_invalid, 429 rate_limited). */
  async pair({ code, name, platform, fingerprint, history = false }) {
    const answer = await postJson('/api/v1/pair', { code, name, platform, ...(history ? { history: true } : {}) });
    const now = Date.now();
    const credentials = {
      deviceId: answer.deviceId,
      accessToken: answer.accessToken,
      refreshToken: answer.refreshToken,
      ...expiry(answer, now),
      name,
      fingerprint: fingerprint ?? null,
      pairedAt: new Date(now).toISOString(),
    };
    await this.store.set('credentials', credentials);
    await this.store.set('nodes', validNodes(answer.nodes));
    return credentials;
  }

  /** When the current access token should be replaced (ms since epoch). */
  static dueAt(c) {
    return c.accessIssuedAt + (c.accessExpiresAt - c.accessIssuedAt) * REFRESH_AT;
  }

  /** A usable access token, refreshed first when it is due. */
  async token(now = Date.now()) {
    const c = await this.credentials();
    if (!c) throw new ApiError(401, 'device_revoked', 'This device is not paired.');
    return now < Session.dueAt(c) ? c.accessToken : this.refresh(c.accessToken);
  }

  /**
   * Rotates the refresh token under a lock. Another tab may have rotated it while we waited:
   * then its fresh access token is used and our stale refresh token is never sent.
   */
  refresh(rejectedToken) {
    return withLock(async () => {
      const c = await this.credentials();
      if (!c) throw new ApiError(401, 'device_revoked', 'This device is not paired.');
      if (c.accessToken !== rejectedToken && Date.now() < Session.dueAt(c)) return c.accessToken;
      // Through the node in use: every node of a cluster answers for it (PROTOCOL.md §4).
      const answer = await postJson(`${this.via}/api/v1/token`, { refreshToken: c.refreshToken });
      await this.store.set('credentials', {
        ...c,
        accessToken: answer.accessToken,
        refreshToken: answer.refreshToken,
        ...expiry(answer, Date.now()),
      });
      const nodes = validNodes(answer.nodes);
      if (nodes.length > 0) await this.store.set('nodes', nodes);
      return answer.accessToken;
    });
  }

  /** A fresh signed link to a stored attachment (PROTOCOL.md §5.9); null when it is gone. */
  async attachmentLink(file) {
    const token = await this.token();
    const response = await fetch(`/api/v1/attachments/${encodeURIComponent(file)}/link`, { headers: { authorization: `Bearer ${token}` }, cache: 'no-store' });
    if (!response.ok) return null;
    const { url } = await response.json();
    return typeof url === 'string' && url.startsWith('/file/') ? url : null;
  }

  /** POST /api/v1/unpair (Beep protocol extension): revokes this device on the daemon. */
  async unpair() {
    try {
      const token = await this.token();
      await postJson('/api/v1/unpair', undefined, { authorization: `Bearer ${token}` });
    } catch (error) {
      // Already revoked or signed out: the daemon has forgotten us, which is what we want.
      if (!(error instanceof ApiError && error.signedOut)) throw error;
    }
    await this.store.clear();
  }
}
