import { Connection } from './connection.js';
import { ListView } from './list-view.js';
import { LocalStore } from './local-store.js';
import { showPairing, takePairingLink } from './pairing-view.js';
import { Session } from './session.js';
import { notificationsAllowed, notifySystem } from './system-notify.js';

// The phone app's entry: pair if needed, then the list and the live connection. Tabs of the
// same browser share one IndexedDB and tell each other about changes on a BroadcastChannel.

const byId = (id) => document.getElementById(id);
const STATE_TEXT = {
  connecting: 'Connecting…',
  connected: 'Connected',
  waiting: 'Reconnecting…',
  offline: 'Offline',
  'signed-out': 'Not paired',
};

function showView(name) {
  for (const view of document.querySelectorAll('.view')) view.hidden = view.id !== `view-${name}`;
  byId('open-settings').hidden = name !== 'list';
}

function showState(name, detail = {}) {
  const conn = byId('conn');
  conn.dataset.state = name;
  byId('conn-text').textContent = STATE_TEXT[name] ?? name;
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
  }

  async boot() {
    registerWorker();
    const link = takePairingLink();
    this.store = await LocalStore.open((what) => this.channel.postMessage(what));
    this.session = new Session(this.store);
    this.channel.onmessage = (e) => this.fromSibling(e.data);
    this.wireSettings();
    await this.run(link);
  }

  async run(link, notice) {
    let credentials = await this.session.credentials();
    if (!credentials) {
      showView('pair');
      showState('signed-out');
      credentials = await showPairing(this.session, link, notice);
    }
    this.credentials = credentials;
    showView('list');
    this.list ??= new ListView({ onDismiss: (id) => this.dismiss(id) });
    await this.refreshList();
    this.connect();
    this.store.prune().catch(() => {});
  }

  connect() {
    this.connection = new Connection(this.session, this.store, {
      state: showState,
      added: (fresh) => this.added(fresh),
      removed: () => this.refreshList(),
      signedOut: () => this.signedOut('This device was unpaired from Beep. Pair it again to receive notifications.'),
    });
    this.connection.start();
  }

  async refreshList() {
    this.list?.show(await this.store.items());
  }

  async added(fresh) {
    await this.refreshList();
    const urgent = fresh.find((n) => n.priority === 5);
    announce(fresh.length === 1 ? `New${urgent ? ' urgent' : ''} notification: ${fresh[0].title}` : `${fresh.length} new notifications${urgent ? ', including urgent ones' : ''}`);
    notifySystem(fresh).catch((error) => console.warn('system notification failed', error));
  }

  async dismiss(id) {
    await this.store.remove([id], { send: true });
    await this.refreshList();
    announce('Dismissed');
    this.connection?.flushOutbox();
  }

  async signedOut(notice) {
    if (this.signingOut) return;
    this.signingOut = true;
    this.connection?.stop();
    this.connection = null;
    byId('settings').close();
    await this.store.clear();
    this.list?.show([]);
    this.signingOut = false;
    await this.run({}, notice);
  }

  fromSibling(what) {
    if (what === 'items') this.refreshList();
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
      byId('device-gateway').textContent = location.host;
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
