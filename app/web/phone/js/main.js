import { Connection } from './connection.js';
import { ListView } from './list-view.js';
import { LocalStore } from './local-store.js';
import { PairingView, takePairingLink } from './pairing-view.js';
import { Session } from './session.js';
import { notificationsAllowed, notifySystem } from './system-notify.js';

// The phone app's entry: pair if needed, then the list and the live connection. Tabs of the
// same browser share one IndexedDB and tell each other about changes on a BroadcastChannel; one
// of them at a time holds the connection (connection.js, CONNECTION_LOCK).

const byId = (id) => document.getElementById(id);
const STATE_TEXT = {
  connecting: 'Connecting…',
  connected: 'Connected',
  waiting: 'Reconnecting…',
  offline: 'Offline',
  elsewhere: 'Live in another tab',
  'signed-out': 'Not paired',
};

function showView(name) {
  for (const view of document.querySelectorAll('.view')) view.hidden = view.id !== `view-${name}`;
  byId('open-settings').hidden = name !== 'list';
}

function showState(name, detail = {}) {
  const conn = byId('conn');
  conn.dataset.state = name;
  // Which PC it is connected through (a cluster's node id; a single PC's host name).
  conn.dataset.node = detail.node ?? '';
  byId('conn-text').textContent = name === 'connected' && detail.node ? `Connected through ${detail.node}` : (STATE_TEXT[name] ?? name);
  byId('offline-note').hidden = name !== 'offline' && name !== 'waiting';
  conn.title = detail.retryAt ? `Next try at ${new Date(detail.retryAt).toLocaleTimeString()}` : '';
}

function announce(text) {
  const region = byId('announce');
  const line = document.createElement('p');
  line.textContent = text;
  region.append(line);
  while (region.childElementCount > 3) region.firstElementChild.remove();
}

function registerWorker() {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register('/sw.js').catch((error) => console.warn('service worker not registered', error));
}

class App {
  constructor() {
    this.channel = new BroadcastChannel('beep');
    this.connection = null;
    this.list = null;
    this.refreshing = null;
    this.refreshAgain = false;
    /** Fresh attachment links asked for, by file id: one request per file while its link lasts. */
    this.links = new Map();
  }

  /** A fresh signed link to a stored attachment (cached until shortly before it expires; `fresh` skips the cache). */
  attachmentLink(file, fresh = false) {
    const cached = this.links.get(file);
    if (cached && !fresh && cached.until > Date.now()) return cached.url;
    const url = this.session.attachmentLink(file).catch(() => null);
    const entry = { url, until: Date.now() + 60_000 };
    this.links.set(file, entry);
    url.then((u) => {
      if (u === null) return void this.links.delete(file);
      entry.until = Number(new URL(u, location.href).searchParams.get('exp')) * 1000 - 60_000;
    });
    return url;
  }

  async boot() {
    registerWorker();
    const link = takePairingLink();
    this.store = await LocalStore.open((what) => this.channel.postMessage(what));
    this.session = new Session(this.store);
    this.pairing = new PairingView(this.session);
    this.channel.onmessage = (e) => this.fromSibling(e.data);
    // A second pairing link opened in this tab changes only the fragment: no reload, so listen.
    window.addEventListener('hashchange', () => this.linkOpened(takePairingLink()));
    this.wireSettings();
    this.wireRelink();
    await this.run(link);
  }

  async run(link, notice) {
    let credentials = await this.session.credentials();
    if (!credentials) {
      this.credentials = null;
      showView('pair');
      showState('signed-out');
      credentials = await this.pairing.show(link, notice);
    }
    this.credentials = credentials;
    showView('list');
    this.list ??= new ListView({ onDismiss: (id) => this.dismiss(id), onClear: (ids) => this.clear(ids), onAction: (id, actionId) => this.action(id, actionId), relink: (file, fresh) => this.attachmentLink(file, fresh) });
    await this.refreshList();
    this.connect();
    this.store.prune().catch(() => {});
  }

  connect() {
    this.connection = new Connection(this.session, this.store, {
      state: showState,
      added: (fresh) => this.added(fresh),
      listed: (earlier) => this.listed(earlier),
      removed: () => this.refreshList(),
      signedOut: () => this.signedOut('This device was unpaired from Beep. Pair it again to receive notifications.'),
    });
    this.connection.start();
  }

  /** Redraws from IndexedDB; calls that arrive meanwhile (a burst of `dismissed`) share one more redraw. */
  refreshList() {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        this.list?.show(await this.store.items());
      } while (this.refreshAgain);
    })().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  /** A pairing link opened in this tab: on the form it replaces the code; when paired, ask first. */
  linkOpened(link) {
    if (!link.code) return;
    if (!this.credentials) return this.pairing.useLink(link);
    this.pendingLink = link;
    byId('relink').hidden = false;
    byId('relink-error').hidden = true;
    byId('relink-name').textContent = this.credentials.name;
    byId('relink-code').textContent = `${link.code.slice(0, 4)} ${link.code.slice(4)}`;
    byId('relink-yes').focus();
  }

  wireRelink() {
    const banner = byId('relink');
    byId('relink-no').addEventListener('click', () => {
      banner.hidden = true;
      this.pendingLink = null;
    });
    byId('relink-yes').addEventListener('click', async () => {
      const link = this.pendingLink;
      if (!link) return;
      byId('relink-yes').disabled = true;
      this.connection?.stop();
      try {
        await this.session.unpair();
        banner.hidden = true;
        this.pendingLink = null;
        await this.signedOut('Pairing again with the code from the link.', link);
      } catch (error) {
        byId('relink-error').textContent = `Could not unpair first: ${error.message}. Check the connection and try again.`;
        byId('relink-error').hidden = false;
        this.connect();
      } finally {
        byId('relink-yes').disabled = false;
      }
    });
  }

  async added(fresh) {
    await this.refreshList();
    const urgent = fresh.find((n) => n.priority === 5);
    announce(fresh.length === 1 ? `New${urgent ? ' urgent' : ''} notification: ${fresh[0].title}` : `${fresh.length} new notifications${urgent ? ', including urgent ones' : ''}`);
    notifySystem(fresh).catch((error) => console.warn('system notification failed', error));
  }

  /** History from before pairing: into the list, announced once, never a system notification. */
  async listed(earlier) {
    await this.refreshList();
    announce(`${earlier.length} earlier notification${earlier.length === 1 ? '' : 's'} from the last hours`);
  }

  async dismiss(id) {
    await this.store.remove([id], { send: true });
    await this.refreshList();
    announce('Dismissed');
    this.connection?.flushOutbox();
  }

  /** An http action button: the PC sends the request; `cleared` (its clear=true and a 2xx answer) dismissed it everywhere. */
  async action(id, actionId) {
    const reply = this.connection ? await this.connection.perform(id, actionId) : { error: { code: 'offline', message: 'Not connected to your PC.' } };
    if (reply?.ok && reply.cleared) {
      await this.store.remove([id], { send: false });
      await this.refreshList();
      announce('Done and cleared');
    } else {
      announce(reply?.ok ? `Sent: ${reply.status}` : `Not sent: ${reply?.error?.message ?? 'failed'}`);
    }
    return reply;
  }

  /** Clear all: dismissed here and, in one `dismiss {ids}` per batch, everywhere. */
  async clear(ids) {
    await this.store.remove(ids, { send: true });
    await this.refreshList();
    announce(`Cleared ${ids.length} notification${ids.length === 1 ? '' : 's'}`);
    this.connection?.flushOutbox();
  }

  async signedOut(notice, link = {}) {
    if (this.signingOut) return;
    this.signingOut = true;
    this.connection?.stop();
    this.connection = null;
    byId('settings').close();
    await this.store.clear();
    this.list?.show([]);
    this.signingOut = false;
    byId('relink').hidden = true;
    await this.run(link, notice);
  }

  fromSibling(what) {
    if (what === 'items') {
      this.refreshList();
      // A tab without the connection may have queued a dismissal: the one with it sends it.
      this.connection?.flushOutbox();
    }
    if (what === 'cleared' && this.connection) this.signedOut('This device was unpaired.');
  }

  wireSettings() {
    const dialog = byId('settings');
    const unpair = byId('unpair');
    let armed = false;
    byId('open-settings').addEventListener('click', () => {
      const c = this.credentials;
      byId('device-name').textContent = c?.name ?? '';
      byId('device-paired').textContent = c ? new Date(c.pairedAt).toLocaleString() : '';
      byId('device-gateway').textContent = new URL(this.connection?.activeUrl ?? location.origin).host;
      this.describeNotifications();
      armed = false;
      unpair.textContent = 'Unpair this device';
      byId('unpair-error').hidden = true;
      dialog.showModal();
    });
    byId('notify-enable').addEventListener('click', async () => {
      await Notification.requestPermission();
      this.describeNotifications();
    });
    unpair.addEventListener('click', async () => {
      if (!armed) {
        armed = true;
        unpair.textContent = 'Tap again to unpair';
        return;
      }
      unpair.disabled = true;
      this.connection?.stop(); // our own `revoked` is expected now, not news
      try {
        await this.session.unpair();
        await this.signedOut('This device is unpaired. Pair it again to receive notifications.');
      } catch (error) {
        byId('unpair-error').textContent = `Could not unpair: ${error.message}. Check the connection and try again.`;
        byId('unpair-error').hidden = false;
        this.connect();
      } finally {
        unpair.disabled = false;
      }
    });
  }

  describeNotifications() {
    const status = byId('notify-status');
    const button = byId('notify-enable');
    button.hidden = true;
    if (!('Notification' in window)) status.textContent = 'This browser cannot show system notifications.';
    else if (notificationsAllowed()) status.textContent = 'On: new notifications appear in the system tray while Beep is in the background.';
    else if (Notification.permission === 'denied') status.textContent = 'Blocked. Allow notifications for this site in the browser settings.';
    else {
      status.textContent = 'Off. Allow them to be alerted while Beep is in the background.';
      button.hidden = false;
    }
  }
}

new App().boot().catch((error) => {
  console.error(error);
  showState('offline');
  byId('conn-text').textContent = 'Could not start';
});
