// The phone's own storage (IndexedDB): what it was sent, its credentials, dismissals waiting to
// be sent, and tombstones of dismissed ids. A batch is acked only after `storeIncoming` commits,
// which is what makes "delivered" mean "on the phone".

const DB_NAME = 'beep';
const DB_VERSION = 1;
/** ms a tombstone is kept: longer than the daemon keeps undelivered notifications (7 days). */
const TOMBSTONE_MS = 8 * 86_400_000;

function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function committed(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = tx.onerror = () => reject(tx.error ?? new Error('transaction aborted'));
  });
}

function openDatabase() {
  const request = indexedDB.open(DB_NAME, DB_VERSION);
  request.onupgradeneeded = () => {
    const db = request.result;
    db.createObjectStore('kv');
    db.createObjectStore('items', { keyPath: 'id' });
    db.createObjectStore('gone', { keyPath: 'id' });
    db.createObjectStore('outbox', { keyPath: 'id' });
  };
  return promised(request);
}

/** One IndexedDB database; every write tells sibling tabs through `onChange`. */
export class LocalStore {
  constructor(db, onChange = () => {}) {
    this.db = db;
    this.onChange = onChange;
  }

  static async open(onChange) {
    return new LocalStore(await openDatabase(), onChange);
  }

  async get(key) {
    return promised(this.db.transaction('kv').objectStore('kv').get(key));
  }

  async set(key, value) {
    const tx = this.db.transaction('kv', 'readwrite');
    tx.objectStore('kv').put(value, key);
    await committed(tx);
  }

  /** Stores what is new (not held, not dismissed) and resolves with it once committed. */
  async storeIncoming(items, now = Date.now()) {
    const tx = this.db.transaction(['items', 'gone'], 'readwrite');
    const held = tx.objectStore('items');
    const gone = tx.objectStore('gone');
    const fresh = [];
    const seen = new Set();
    for (const item of items) {
      if (seen.has(item.id)) continue;
      seen.add(item.id);
      const [have, dead] = await Promise.all([promised(held.getKey(item.id)), promised(gone.getKey(item.id))]);
      if (have !== undefined || dead !== undefined) continue;
      const stored = { ...item, receivedAt: now };
      held.put(stored);
      fresh.push(stored);
    }
    await committed(tx);
    if (fresh.length) this.onChange('items');
    return fresh;
  }

  /** Every stored notification, newest first. */
  async items() {
    const all = await promised(this.db.transaction('items').objectStore('items').getAll());
    return all.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  }

  /** Removes ids for good; `send` queues a `dismiss` for each (dismissed here, not elsewhere). */
  async remove(ids, { send = false } = {}, now = Date.now()) {
    const tx = this.db.transaction(['items', 'gone', 'outbox'], 'readwrite');
    for (const id of ids) {
      tx.objectStore('items').delete(id);
      tx.objectStore('gone').put({ id, at: now });
      if (send) tx.objectStore('outbox').put({ id, at: now });
    }
    await committed(tx);
    this.onChange('items');
  }

  /** Dismissals not yet confirmed by the daemon, oldest first. */
  async outbox() {
    const all = await promised(this.db.transaction('outbox').objectStore('outbox').getAll());
    return all.sort((a, b) => a.at - b.at).map((d) => d.id);
  }

  /** The daemon confirmed these dismissals (or cannot take them): no longer queued. */
  async sent(ids) {
    const tx = this.db.transaction('outbox', 'readwrite');
    for (const id of ids) tx.objectStore('outbox').delete(id);
    await committed(tx);
  }

  /** Drops tombstones old enough that the daemon can no longer resend their ids. */
  async prune(now = Date.now()) {
    const tx = this.db.transaction('gone', 'readwrite');
    const store = tx.objectStore('gone');
    for (const t of await promised(store.getAll())) if (now - t.at > TOMBSTONE_MS) store.delete(t.id);
    await committed(tx);
  }

  /** Forgets everything (after unpairing or revocation). */
  async clear() {
    const names = ['kv', 'items', 'gone', 'outbox'];
    const tx = this.db.transaction(names, 'readwrite');
    for (const name of names) tx.objectStore(name).clear();
    await committed(tx);
    this.onChange('cleared');
  }
}
