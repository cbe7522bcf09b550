import { $, ago, copyButton, el, report } from './lib.js';

// API tokens for ntfy and Gotify clients (POST/GET/DELETE /api/v1/tokens): create one, see it
// once together with the exact settings to type into the ntfy or Gotify app (or a curl line for
// a script), list them, revoke one (two clicks).

/** One "what to type" line: a label, the value in monospace, a copy button. */
function setting(label, value) {
  return [el('dt', {}, label), el('dd', {}, el('code', { class: 'value' }, value), copyButton(value))];
}

function instructions(kind, secret, server, localUrl, topics) {
  const topic = topics && topics.length ? topics[0] : 'alerts';
  if (kind === 'subscribe') {
    return [
      el('h4', {}, 'ntfy app'),
      el('p', { class: 'small' }, 'Settings → Users → Add user:'),
      el('dl', { class: 'small' }, ...setting('Service URL', server), ...setting('Username', 'beep'), ...setting('Password', secret)),
      el('p', { class: 'small' }, 'Then + → Subscribe to topic: ', el('code', {}, topic), topics && topics.length ? '' : ' (or any topic you publish to)', ', with “Use another server” = ', el('code', {}, server), '.'),
      el('h4', {}, 'Gotify clients that take a client token'),
      el('dl', { class: 'small' }, ...setting('Server URL', server), ...setting('Client token', secret)),
      el('p', { class: 'small muted' }, 'The Gotify Android app logs in with user admin and the dashboard password instead, and makes its own token.'),
      el('p', { class: 'small muted' }, 'The phone must trust Beep’s certificate first: open ', el('code', {}, server + '/trust.html'), ' on it.'),
    ];
  }
  const ntfyLine = `curl -H "Authorization: Bearer ${secret}" -H "Title: Backup" -d "Backup finished" ${localUrl}/${topic}`;
  const gotifyLine = `curl "${localUrl}/message?token=${secret}" -F title=Backup -F message="Backup finished"`;
  return [
    el('dl', { class: 'small' }, ...setting('Token', secret), ...setting('On this PC', localUrl), ...setting('From the network', server)),
    el('h4', {}, 'ntfy-style publish'),
    el('dl', { class: 'small' }, ...setting('Command', ntfyLine)),
    el('h4', {}, 'Gotify-style publish (application token)'),
    el('dl', { class: 'small' }, ...setting('Command', gotifyLine)),
  ];
}

/** The panel; `gatewayUrl` is the LAN address phones use (from the session). */
export function tokensPanel({ api, gatewayUrl }) {
  const server = gatewayUrl || 'https://<this PC>:2337';
  const localUrl = location.origin;
  return {
    interval: 15000,
    confirming: null,
    start() {
      $('token-form').addEventListener('submit', (event) => {
        event.preventDefault();
        this.create().catch((err) => ($('token-error').textContent = err.message));
      });
      $('token-done').addEventListener('click', () => {
        $('token-new').hidden = true;
        $('token-settings').replaceChildren(); // the secret leaves the page
        $('token-form').hidden = false;
      });
    },
    async create() {
      $('token-error').textContent = '';
      const kind = document.querySelector('#token-form input[name="kind"]:checked').value;
      const body = { kind };
      const name = $('token-name').value.trim();
      if (name) body.name = name;
      const topics = $('token-topics').value.split(',').map((t) => t.trim()).filter(Boolean);
      if (topics.length) body.topics = topics;
      const created = await api('POST', '/api/v1/tokens', body);
      $('token-settings').replaceChildren(...instructions(kind, created.token, server, localUrl, created.topics));
      $('token-new').dataset.tokenId = String(created.id);
      $('token-new').hidden = false;
      $('token-form').hidden = true;
      $('token-form').reset();
      $('token-done').focus();
      await this.refresh();
    },
    async refresh() {
      const tokens = await api('GET', '/api/v1/tokens');
      $('no-tokens').hidden = tokens.length > 0;
      $('tokens').replaceChildren(...tokens.map((t) => this.row(t)));
    },
    row(t) {
      const confirming = this.confirming === t.id;
      const revoke = el('button', { type: 'button', class: 'danger' }, confirming ? 'Confirm revoke' : 'Revoke');
      revoke.setAttribute('aria-label', (confirming ? 'Confirm revoking ' : 'Revoke ') + t.name);
      revoke.addEventListener('click', () => {
        if (this.confirming !== t.id) {
          this.confirming = t.id;
          return this.refresh().catch(report);
        }
        this.confirming = null;
        api('DELETE', '/api/v1/tokens/' + t.id).then(() => this.refresh()).catch(report);
      });
      return el('li', { 'data-token': String(t.id) },
        el('span', { class: 'name' }, t.name),
        el('span', { class: 'pill', 'data-status': t.kind }, t.kind),
        el('span', { class: 'actions' }, revoke),
        el('span', { class: 'meta' }, (t.topics ? 'topics ' + t.topics.join(', ') : 'every topic') + ' · created ' + ago(t.createdAt) + ' · last used ' + ago(t.lastUsedAt)));
    },
  };
}
