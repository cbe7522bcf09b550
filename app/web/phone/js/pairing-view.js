import { gatewayFingerprint, groupedHex } from './fingerprint.js';
import { guessDevice, spacedCode } from './format.js';
import { ApiError } from './session.js';

// Pairing: the QR link carries `#code=<8 digits>&fp=sha256%2F<hex>` in the fragment, which the
// browser never sends to a server. The user only confirms a device name; a wrong or expired
// code is said plainly, with a way to type a new one.

const byId = (id) => document.getElementById(id);

/** Reads and then erases the fragment, so the code stays out of history and bookmarks. */
export function takePairingLink(location = window.location) {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  const code = params.get('code')?.replace(/\s/g, '');
  const fp = params.get('fp');
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
  return { code: code && /^\d{8}$/.test(code) ? code : undefined, fingerprint: fp && /^sha256\/[0-9a-f]{64}$/i.test(fp) ? fp.toLowerCase() : undefined };
}

function message(error) {
  if (error instanceof ApiError) {
    if (error.code === 'pairing_code_invalid') {
      return 'That pairing code is wrong or has expired. Codes work once and only for a few minutes: run “beep pair” on your PC for a new one and enter it here.';
    }
    if (error.status === 429) {
      const minutes = error.retryAfter ? Math.ceil(error.retryAfter / 60) : 15;
      return `Too many pairing attempts. Wait ${minutes} minute${minutes === 1 ? '' : 's'}, then try again.`;
    }
    return `Pairing failed: ${error.message}`;
  }
  return 'Could not reach Beep on your PC. Check that this phone is on the same network, then try again.';
}

/** Shows the pairing form; resolves when this device is paired. */
export function showPairing(session, link, notice) {
  const form = byId('pair-form');
  const error = byId('pair-error');
  const codeField = byId('code-field');
  const codeInput = byId('pair-code');
  const submit = byId('pair-submit');
  const device = guessDevice();
  let code = link.code;
  byId('pair-name').value ||= device.name;
  if (notice) byId('pair-intro').textContent = notice;

  const manual = (focus) => {
    code = undefined;
    byId('code-from-link').hidden = true;
    codeField.hidden = false;
    byId('enter-code').hidden = true;
    if (focus) codeInput.focus();
  };
  const fail = (text) => {
    error.textContent = text;
    error.hidden = false;
  };
  if (code) {
    byId('code-from-link').hidden = false;
    byId('code-shown').textContent = spacedCode(code);
    byId('enter-code').hidden = false;
  } else {
    manual(false);
  }
  byId('enter-code').onclick = () => manual(true);

  return new Promise((resolve) => {
    form.onsubmit = async (event) => {
      event.preventDefault();
      error.hidden = true;
      const typed = code ?? codeInput.value.replace(/\D/g, '');
      const name = byId('pair-name').value.trim();
      if (!/^\d{8}$/.test(typed)) return fail('The pairing code has 8 digits.');
      if (!name) return fail('Give this device a name, so you can recognise it on your PC.');
      submit.disabled = true;
      submit.textContent = 'Pairing…';
      try {
        // The QR code says which CA the PC made; refuse a gateway that serves another one.
        if (code && link.fingerprint) {
          const served = await gatewayFingerprint();
          if (served !== link.fingerprint) {
            throw new Error(`This server's certificate (${groupedHex(served).slice(0, 19)}…) is not the one in the QR code. Pairing refused.`);
          }
        }
        resolve(await session.pair({ code: typed, name, platform: device.platform, fingerprint: link.fingerprint }));
      } catch (e) {
        fail(e instanceof ApiError || e instanceof TypeError ? message(e) : e.message);
        if (e instanceof ApiError && e.code === 'pairing_code_invalid') manual(true);
        submit.disabled = false;
        submit.textContent = 'Pair';
      }
    };
  });
}
