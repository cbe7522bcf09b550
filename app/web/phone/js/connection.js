import { io } from '../vendor/socket.io.esm.min.js';
import { backoffDelay } from './backoff.js';
import { gatewayFingerprint } from './fingerprint.js';
import { NodeRoster, PREFERRED_PROBE_MS } from './nodes.js';

// The socket.io `/device` link (PROTOCOL.md): stores each batch before acking it, sends
// queued dismissals, applies `dismissed` and `revoked`, and reconnects with backoff, at once
// when the network comes back or the page becomes visible. In a cluster (PROTOCOL.md §4,
// "Several gateways") a failed attempt moves to the next node, and while on another node the
// one that served this page is probed to go back to it.
//
// One connection per device (PROTOCOL.md §4): the daemon closes a device's older socket when a
// newer one joins, so two tabs that both reconnected would take turns knocking each other off.
// A Web Lock holds the link instead: the tab that opens last (or is brought to the front) takes
// it over, the others wait in line, show "Live in another tab" and follow the shared IndexedDB
// (main.js redraws on the BroadcastChannel); when the holder closes, the next tab connects.

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
/** The Web Lock whose holder (one tab per browser profile) keeps the device's socket. */
export const CONNECTION_LOCK = 'beep-connection';

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
 * States: connecting, connected {node, url}, waiting {retryAt}, offline, elsewhere (another tab
 * holds the connection), signed-out.
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
    /** Whether this tab holds CONNECTION_LOCK (always, where the browser has no Web Locks). */
    this.holding = !navigator.locks;
    /** Ends this tab's hold on the lock (set while it holds it). */
    this.releaseLock = null;
    /** This tab's place in line for the lock: aborting it leaves the line (set while it waits). */
    this.line = null;
    this.handlers = {
      online: () => (this.holding ? this.connectNow(true) : this.state('elsewhere')),
      offline: () => this.goOffline(),
      // Brought to the front: this tab takes the connection over if another held it.
      visibilitychange: () => document.visibilityState === 'visible' && (this.holding ? this.connectNow(true) : this.claim(true)),
    };
  }

  start() {
    window.addEventListener('online', this.handlers.online);
    window.addEventListener('offline', this.handlers.offline);
    document.addEventListener('visibilitychange', this.handlers.visibilitychange);
    if (this.holding) this.connectNow();
    else this.claim(true);
  }

  stop() {
    this.stopped = true;
    window.removeEventListener('online', this.handlers.online);
    window.removeEventListener('offline', this.handlers.offline);
    document.removeEventListener('visibilitychange', this.handlers.visibilitychange);
    this.halt();
    this.line?.abort();
    this.releaseLock?.();
  }

  /** Cancels the timers and closes the socket: at stop, or when another tab took the connection over. */
  halt() {
    clearTimeout(this.retryTimer);
    clearTimeout(this.refreshTimer);
    clearTimeout(this.probeTimer);
    this.drop();
  }

  /**
   * Asks for CONNECTION_LOCK: `steal` takes it from the tab holding it (this one opened or came to
   * the front), otherwise this tab waits in line. Held, the tab connects and keeps the lock until
   * it stops or another tab takes it over; then it drops its socket and waits in line again.
   */
  claim(steal) {
    if (this.stopped || this.holding) return;
    this.line?.abort(); // a place in line this request replaces
    const line = steal ? null : new AbortController();
    this.line = line;
    let held = false;
    const granted = () => {
      if (this.line === line) this.line = null;
      if (this.stopped) return undefined;
      held = true;
      this.holding = true;
      this.connectNow(true);
      return new Promise((release) => (this.releaseLock = release));
    };
    navigator.locks.request(CONNECTION_LOCK, steal ? { steal: true } : { signal: line.signal }, granted).then(
      () => undefined,
      (error) => {
        // Rejected after it was granted: another tab took the lock over. (Before: this request
        // left the line, for stop() or for a steal of this tab's own; nothing to undo.)
        if (!held || error?.name !== 'AbortError' || this.stopped) return;
        this.holding = false;
        this.releaseLock = null;
        this.halt();
        this.claim(false);
      },
    );
    if (line) this.state('elsewhere');
  }

  /** Asks the PC to perform an http action button; resolves with its reply (PROTOCOL.md, "Action buttons"). */
  async perform(id, action) {
    // From a tab waiting in line: the user acts here, so this tab takes the connection over.
    if (!this.holding) {
      this.claim(true);
      await this.connectedWithin(CONNECT_TIMEOUT_MS);
    }
    const socket = this.socket;
    if (!socket?.connected) return { error: { code: 'offline', message: 'Not connected to your PC; try again when it is.' } };
    return new Promise((resolve) => {
      socket.timeout(ACTION_TIMEOUT_MS).emit('action', { id, action }, (error, reply) => {
        resolve(error ? { error: { code: 'timeout', message: 'Your PC did not answer.' } } : reply);
      });
    });
  }

  /** Resolves once this tab's socket is connected, or after `ms` (whichever comes first). */
  connectedWithin(ms) {
    const deadline = Date.now() + ms;
    return new Promise((resolve) => {
      const check = () => (this.connected || this.stopped || Date.now() > deadline ? resolve() : setTimeout(check, 50));
      check();
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
    if (this.stopped || !this.holding) return;
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
    if (this.stopped || !this.holding) {
      this.opening = false;
      return;
    }
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
    if (this.stopped || !this.holding) return;
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
