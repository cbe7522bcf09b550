import { io } from '../vendor/socket.io.esm.min.js';
import { backoffDelay } from './backoff.js';
import { gatewayFingerprint } from './fingerprint.js';
import { NodeRoster, PREFERRED_PROBE_MS } from './nodes.js';

// The socket.io `/device` link (PROTOCOL.md): stores each batch before acking it, sends
// queued dismissals, applies `dismissed` and `revoked`, and reconnects with backoff, at once
// when the network comes back or the page becomes visible. In a cluster (PROTOCOL.md §4,
// "Several gateways") a failed attempt moves to the next node, and while on another node the
// one that served this page is probed to go back to it.

/** ms the phone waits for the PC to perform an http action: longer than the daemon's own timeout (10 s by default). */
const ACTION_TIMEOUT_MS = 30_000;
/** ms a dismissal may wait for the daemon's answer before it is retried on the next connect. */
const DISMISS_TIMEOUT_MS = 10_000;
/** ms a connection attempt may take. */
const CONNECT_TIMEOUT_MS = 10_000;
/** Ids in one `dismiss {ids}`: the daemon's default batch size (it answers too_many_ids with its own). */
const DISMISS_BATCH = 64;
/** bytes of ids in one frame: under the smallest frame any daemon accepts (2 KiB), whatever its batch size. */
const DISMISS_FRAME_BYTES = 1800;
const ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Splits ids into runs of at most `max` ids and DISMISS_FRAME_BYTES of JSON. */
export function dismissChunks(ids, max) {
  const chunks = [];
  let chunk = [];
  let bytes = 0;
  for (const id of ids) {
    if (chunk.length > 0 && (chunk.length >= max || bytes + id.length + 3 > DISMISS_FRAME_BYTES)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(id);
    bytes += id.length + 3;
  }
  if (chunk.length) chunks.push(chunk);
  return chunks;
}

function validItem(n) {
  return n && typeof n.id === 'string' && typeof n.title === 'string' && typeof n.createdAt === 'string';
}

/**
 * One per tab. `on` receives: state(name, detail), added(items), listed(items: history, shown
 * quietly), removed(ids), signedOut(why).
 * States: connecting, connected {node, url}, waiting {retryAt}, offline, signed-out.
 */
export class Connection {
  constructor(session, store, on) {
    this.session = session;
    this.store = store;
    this.on = on;
    this.attempt = 0;
    this.socket = null;
    this.opening = false;
    this.stopped = false;
    this.retryTimer = undefined;
    this.refreshTimer = undefined;
    this.probeTimer = undefined;
    /** The cluster's gateways (from IndexedDB, kept by Session), this page's first; loaded at the first connect. */
    this.roster = null;
    this.activeUrl = location.origin;
    /** Other nodes whose CA was checked against the pinned fingerprint. */
    this.verified = new Set([location.origin]);
    this.dismissBatch = DISMISS_BATCH;
    this.inFlight = new Set();
    this.handlers = {
      online: () => this.connectNow(true),
      offline: () => this.goOffline(),
      visibilitychange: () => document.visibilityState === 'visible' && this.connectNow(true),
    };
  }

  start() {
    window.addEventListener('online', this.handlers.online);
    window.addEventListener('offline', this.handlers.offline);
    document.addEventListener('visibilitychange', this.handlers.visibilitychange);
    this.connectNow();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener('online', this.handlers.online);
    window.removeEventListener('offline', this.handlers.offline);
    document.removeEventListener('visibilitychange', this.handlers.visibilitychange);
    clearTimeout(this.retryTimer);
    clearTimeout(this.refreshTimer);
    clearTimeout(this.probeTimer);
    this.drop();
  }

  /** Asks the PC to perform an http action button; resolves with its reply (PROTOCOL.md, "Action buttons"). */
  perform(id, action) {
    const socket = this.socket;
    if (!socket?.connected) return Promise.resolve({ error: { code: 'offline', message: 'Not connected to your PC; try again when it is.' } });
    return new Promise((resolve) => {
      socket.timeout(ACTION_TIMEOUT_MS).emit('action', { id, action }, (error, reply) => {
        resolve(error ? { error: { code: 'timeout', message: 'Your PC did not answer.' } } : reply);
      });
    });
  }

  get connected() {
    return Boolean(this.socket?.connected);
  }

  state(name, detail = {}) {
    this.on.state(name, detail);
  }

  /** Connects unless already connected or connecting; `fresh` forgets the backoff. */
  async connectNow(fresh = false) {
    if (this.stopped) return;
    if (fresh) this.attempt = 0;
    if (this.connected || this.opening) return;
    clearTimeout(this.retryTimer);
    if (!navigator.onLine) return this.goOffline();
    this.opening = true;
    this.state('connecting');
    let token;
    try {
      // The list a refresh (in any tab) stored last.
      this.roster ??= new NodeRoster(location.origin);
      this.roster.update(await this.store.get('nodes'));
      await this.checkPin(this.activeUrl);
      this.session.via = this.activeUrl === location.origin ? '' : this.activeUrl;
      token = await this.session.token();
    } catch (error) {
      this.opening = false;
      return error.signedOut ? this.signOut('revoked') : this.retryLater();
    }
    if (this.stopped) return;
    this.open(token);
  }

  /** Another node must serve the CA pinned at pairing (every node of a cluster shares it). */
  async checkPin(url) {
    if (this.verified.has(url)) return;
    const c = await this.session.credentials();
    if (c?.fingerprint) {
      const served = await gatewayFingerprint(url);
      if (served.toLowerCase() !== c.fingerprint.toLowerCase()) throw new Error(`${url} serves another CA (${served}); not connecting through it`);
    }
    this.verified.add(url);
  }

  /** While on another node: whether the one that served this page answers again; if so, back to it. */
  probePreferred() {
    clearTimeout(this.probeTimer);
    if (this.stopped || this.activeUrl === location.origin) return;
    this.probeTimer = setTimeout(async () => {
      let back = false;
      try {
        back = (await fetch('/ca.crt', { cache: 'no-store' })).ok;
      } catch {
        /* still unreachable */
      }
      if (this.stopped || this.activeUrl === location.origin) return;
      if (!back) return this.probePreferred();
      this.drop();
      this.activeUrl = location.origin;
      this.connectNow(true);
    }, Math.round(PREFERRED_PROBE_MS * (0.5 + Math.random() / 2)));
  }

  open(token) {
    const url = this.activeUrl;
    const socket = io(`${url === location.origin ? '' : url}/device`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      timeout: CONNECT_TIMEOUT_MS,
      auth: { token },
    });
    this.socket = socket;
    socket.on('connect', () => {
      this.opening = false;
      this.attempt = 0;
      // Which PC, once there is more than one to choose from (a single PC just says "Connected").
      this.state('connected', this.roster.nodes.length > 1 ? { node: this.roster.name(url), url } : { url });
      this.probePreferred();
      this.flushOutbox();
      this.scheduleRefresh();
    });
    socket.on('connect_error', (error) => this.refused(socket, token, error.data?.code));
    socket.on('disconnect', (reason) => {
      if (this.socket !== socket || reason === 'io client disconnect') return;
      this.socket = null;
      this.retryLater();
    });
    socket.on('notifications', (payload, ack) => this.receive(payload, ack));
    socket.on('history', (payload) => this.receiveHistory(payload));
    socket.on('dismissed', (payload) => this.removeRemote(payload?.ids));
    socket.on('revoked', () => this.signOut('revoked'));
  }

  async refused(socket, token, code) {
    socket.close();
    if (this.socket === socket) this.socket = null;
    this.opening = false;
    if (code === 'device_revoked') return this.signOut('revoked');
    if ((code === 'token_expired' || code === 'invalid_token') && this.attempt === 0) {
      this.attempt = 1; // one immediate retry with a fresh token, then back off
      try {
        await this.session.refresh(token);
        return this.connectNow();
      } catch (error) {
        if (error.signedOut) return this.signOut('revoked');
      }
    }
    this.retryLater();
  }

  retryLater() {
    if (this.stopped) return;
    if (!navigator.onLine) return this.goOffline();
    // The next node of the cluster (the same one on a single PC), after a jittered, capped wait.
    if (this.roster) this.activeUrl = this.roster.next(this.activeUrl);
    const delay = backoffDelay(this.attempt++);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connectNow(), delay);
    this.state('waiting', { retryAt: Date.now() + delay });
  }

  goOffline() {
    clearTimeout(this.retryTimer);
    this.drop();
    this.state('offline');
  }

  drop() {
    const socket = this.socket;
    this.socket = null;
    this.opening = false;
    socket?.close();
  }

  /** Keeps the refresh token family alive while connected for long stretches. */
  async scheduleRefresh() {
    clearTimeout(this.refreshTimer);
    const c = await this.session.credentials();
    if (!c || this.stopped) return;
    const wait = Math.max(1_000, c.accessExpiresAt - Date.now() - (c.accessExpiresAt - c.accessIssuedAt) * 0.2);
    this.refreshTimer = setTimeout(() => {
      this.session.token().then(
        () => this.scheduleRefresh(),
        (error) => (error.signedOut ? this.signOut('revoked') : this.scheduleRefresh()),
      );
    }, wait);
  }

  /** The recent history asked for at pairing: listed, never acked, no system notification. */
  async receiveHistory(payload) {
    const items = Array.isArray(payload?.items) ? payload.items.filter(validItem) : [];
    try {
      const fresh = await this.store.storeIncoming(items.map((n) => ({ ...n, history: true })));
      if (fresh.length) this.on.listed(fresh);
    } catch (error) {
      console.error('could not store the recent history', error);
    }
  }

  /** Stored first, acked second: an item lost before the commit is resent by the daemon. */
  async receive(payload, ack) {
    const items = Array.isArray(payload?.items) ? payload.items.filter(validItem) : [];
    try {
      const fresh = await this.store.storeIncoming(items);
      if (typeof ack === 'function') ack({ ack: items.map((n) => n.id) });
      if (fresh.length) this.on.added(fresh);
    } catch (error) {
      console.error('could not store notifications; not acked, the daemon will resend', error);
    }
  }

  async removeRemote(ids) {
    if (!Array.isArray(ids)) return;
    const clean = ids.filter((id) => typeof id === 'string');
    await this.store.remove(clean);
    this.on.removed(clean);
  }

  /**
   * Sends every dismissal not yet confirmed and not already on its way: one id as `{id}`, more
   * (clear all) as `{ids}` in as few events as the daemon's batch size allows. Unanswered ones
   * stay queued for the next connect.
   */
  async flushOutbox() {
    const socket = this.socket;
    if (!socket?.connected) return;
    const queued = (await this.store.outbox()).filter((id) => !this.inFlight.has(id));
    const bad = queued.filter((id) => !ID.test(id));
    if (bad.length) await this.store.sent(bad); // never sendable; nothing to retry
    for (const chunk of dismissChunks(queued.filter((id) => ID.test(id)), this.dismissBatch)) {
      for (const id of chunk) this.inFlight.add(id);
      const payload = chunk.length === 1 ? { id: chunk[0] } : { ids: chunk };
      socket.timeout(DISMISS_TIMEOUT_MS).emit('dismiss', payload, (error, reply) => {
        for (const id of chunk) this.inFlight.delete(id);
        if (error) return;
        const code = reply?.error?.code;
        if (code === 'too_many_ids' && reply.error.max > 0 && reply.error.max < this.dismissBatch) {
          this.dismissBatch = reply.error.max;
          return this.flushOutbox();
        }
        if (reply?.ok || code === 'not_found' || code === 'invalid_id') this.store.sent(chunk);
      });
    }
  }

  signOut(why) {
    this.stop();
    this.state('signed-out');
    this.on.signedOut(why);
  }
}
