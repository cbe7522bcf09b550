import { gatewayFingerprint, groupedHex } from './fingerprint.js';
import { LocalStore } from './local-store.js';

// The trust page: shows the fingerprint of the CA this gateway serves, and whether it is the
// one this device pinned when it paired (or the one in a pairing link's fragment).

const byId = (id) => document.getElementById(id);

async function expected() {
  const fp = new URLSearchParams(location.hash.replace(/^#/, '')).get('fp');
  if (fp) return fp.toLowerCase();
  try {
    const store = await LocalStore.open();
    return (await store.get('credentials'))?.fingerprint ?? undefined;
  } catch {
    return undefined;
  }
}

async function show() {
  const [served, pinned] = await Promise.all([gatewayFingerprint(), expected()]);
  byId('fp').textContent = groupedHex(served);
  byId('fp').setAttribute('aria-label', `Fingerprint: ${groupedHex(served).split(' ').join(', ')}`);
  if (!pinned) return;
  const match = byId('fp-match');
  match.hidden = false;
  match.dataset.match = String(served === pinned);
  match.textContent = served === pinned ? 'Matches the certificate this device paired with.' : 'Does NOT match the certificate this device paired with. Do not install it.';
}

show().catch((error) => {
  byId('fp').textContent = `Could not read the certificate: ${error.message}`;
});
