import { gatewayFingerprint, groupedHex } from './fingerprint.js';
import { guessDevice, spacedCode } from './format.js';
import { ApiError } from './session.js';

// Pairing: the QR link carries `#code=<8 digits>&fp=sha256%2F<hex>` in the fragment, which the
// browser never sends to a server. The user only confirms a device name; a wrong or expired
// code is said plainly, with a way to type a new one. The form is wired once and shown as often
// as needed (after an unpair or a revoke, or when another link is opened in the same tab).

const byId = (id) => document.getElementById(id);

/** Reads and then erases the fragment, so the code stays out of history and bookmarks. */
export function takePairingLink(location = window.location) {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  const code = params.get('code')?.replace(/\s/g, '');
  const fp = params.get('fp');
  // `h`: hours of recent history this code lets the phone ask for (absent: none offered).
  const hours = Number(params.get('h'));
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
  return {
    code: code && /^\d{8}$/.test(code) ? code : undefined,
    fingerprint: fp && /^sha256\/[0-9a-f]{64}$/i.test(fp) ? fp.toLowerCase() : undefined,
    historyHours: Number.isInteger(hours) && hours > 0 && hours <= 168 ? hours : 0,
  };
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

/** The pairing form: `show()` resolves with the credentials once this device is paired. */
export class PairingView {
  constructor(session) {
    this.session = session;
    this.device = guessDevice();
    this.link = {};
    this.code = undefined;
    this.busy = false;
    this.resolve = null;
    byId('enter-code').addEventListener('click', () => this.manual(true));
    byId('pair-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
  }

  /** Shows a ready form (never the last attempt's "Pairing…"), filled from `link` when it has a code. */
  show(link = {}, notice) {
    const intro = byId('pair-intro');
    intro.dataset.default ??= intro.textContent;
    intro.textContent = notice ?? intro.dataset.default;
    byId('pair-name').value ||= this.device.name;
    byId('pair-code').value = '';
    this.hideError();
    this.setBusy(false);
    this.useLink(link);
    return new Promise((resolve) => (this.resolve = resolve));
  }

  /** A pairing link opened while the form is up: its code replaces the one shown. */
  useLink(link) {
    this.link = link ?? {};
    this.code = this.link.code;
    // Offered only by a link whose code allows it; unticked until the person chooses.
    byId('history-field').hidden = !(this.code && this.link.historyHours > 0);
    byId('history-hours').textContent = String(this.link.historyHours || 12);
    byId('pair-history').checked = false;
    if (!this.code) return this.manual(false);
    this.hideError();
    byId('code-from-link').hidden = false;
    byId('code-shown').textContent = spacedCode(this.code);
    byId('code-field').hidden = true;
    byId('enter-code').hidden = false;
  }

  manual(focus) {
    this.code = undefined;
    byId('history-field').hidden = true;
    byId('code-from-link').hidden = true;
    byId('code-field').hidden = false;
    byId('enter-code').hidden = true;
    if (focus) byId('pair-code').focus();
  }

  fail(text) {
    byId('pair-error').textContent = text;
    byId('pair-error').hidden = false;
  }

  hideError() {
    byId('pair-error').hidden = true;
  }

  setBusy(busy) {
    this.busy = busy;
    const submit = byId('pair-submit');
    submit.disabled = busy;
    submit.textContent = busy ? 'Pairing…' : 'Pair';
  }

  async submit() {
    if (this.busy || !this.resolve) return;
    this.hideError();
    const link = this.link;
    const code = this.code;
    const typed = code ?? byId('pair-code').value.replace(/\D/g, '');
    const name = byId('pair-name').value.trim();
    if (!/^\d{8}$/.test(typed)) return this.fail('The pairing code has 8 digits.');
    if (!name) return this.fail('Give this device a name, so you can recognise it on your PC.');
    this.setBusy(true);
    try {
      // The QR code says which CA the PC made; refuse a gateway that serves another one.
      if (code && link.fingerprint) {
        const served = await gatewayFingerprint();
        if (served !== link.fingerprint) {
          throw new Error(`This server's certificate (${groupedHex(served).slice(0, 19)}…) is not the one in the QR code. Pairing refused.`);
        }
      }
      const history = Boolean(code && link.historyHours > 0 && byId('pair-history').checked);
      const credentials = await this.session.pair({ code: typed, name, platform: this.device.platform, fingerprint: code ? link.fingerprint : undefined, history });
      const resolve = this.resolve;
      this.resolve = null;
      this.setBusy(false);
      resolve(credentials);
    } catch (e) {
      this.setBusy(false);
      this.fail(e instanceof ApiError || e instanceof TypeError ? message(e) : e.message);
      if (e instanceof ApiError && e.code === 'pairing_code_invalid') this.manual(true);
    }
  }
}
