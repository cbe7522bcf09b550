// Beep dashboard: plain ES modules served locally, no inline code (strict CSP). Each panel is an
// object with refresh() (and optional start(), interval); the larger ones live in their own files.
import { $, ago, createApi, el, report } from './lib.js';
import { auditPanel } from './audit-panel.js';
import { rulesPanel } from './rules-panel.js';
import { tokensPanel } from './tokens-panel.js';
import { scheduledPanel } from './scheduled-panel.js';

const client = createApi(showLogin);
const api = client.call;
const PRIORITY = { 1: 'min', 2: 'low', 3: 'default', 4: 'high', 5: 'urgent' };

// ── status ──────────────────────────────────────────────────────────────────
const statusPanel = {
  interval: 10000,
  async refresh() {
    const report = await api('GET', '/health/detailed');
    const overall = $('overall');
    overall.textContent = report.status === 'ok' ? 'healthy' : report.status;
    overall.dataset.status = report.status;
    $('checks').replaceChildren(
      ...Object.entries(report.checks).map(([name, c]) =>
        el('li', { 'data-check': name },
          el('span', {}, name),
          el('span', { class: 'pill', 'data-status': c.status }, c.status),
          el('span', { class: 'muted small' }, c.latencyMs + ' ms'),
          c.reason ? el('span', { class: 'reason' }, c.reason) : null)),
    );
  },
};

// ── devices ─────────────────────────────────────────────────────────────────
const devicesPanel = {
  interval: 3000,
  confirming: null,
  editing: null,
  start() {
    $('pair').addEventListener('click', () => this.pair().catch(report));
    $('pair-close').addEventListener('click', () => ($('pairing').hidden = true));
  },
  async pair() {
    const p = await api('POST', '/api/v1/pairings');
    const svg = new DOMParser().parseFromString(p.qrSvg, 'image/svg+xml').documentElement;
    $('qr').replaceChildren(document.importNode(svg, true));
    $('pair-code').textContent = p.code.slice(0, 4) + ' ' + p.code.slice(4);
    $('pair-expiry').textContent = new Date(p.expiresAt).toLocaleTimeString();
    $('pair-url').href = p.url;
    $('pairing').hidden = false;
  },
  async refresh() {
    if (this.editing) return; // do not redraw under the user's typing
    const devices = await api('GET', '/api/v1/devices');
    $('no-devices').hidden = devices.length > 0;
    $('devices').replaceChildren(...devices.map((d) => this.row(d)));
  },
  row(d) {
    const rename = el('button', { type: 'button', class: 'quiet' }, 'Rename');
    rename.addEventListener('click', () => {
      this.editing = d.id;
      li.replaceChildren(this.renameForm(d));
      li.querySelector('input').focus();
    });
    const confirming = this.confirming === d.id;
    const revoke = el('button', { type: 'button', class: 'danger' }, confirming ? 'Confirm revoke' : 'Revoke');
    revoke.addEventListener('click', () => {
      if (this.confirming !== d.id) {
        this.confirming = d.id;
        return this.refresh().catch(report);
      }
      this.confirming = null;
      api('DELETE', '/api/v1/devices/' + encodeURIComponent(d.id)).then(() => this.refresh()).catch(report);
    });
    const li = el('li', { 'data-device': d.id },
      el('span', { class: 'name' }, d.name),
      el('span', { class: 'pill', 'data-status': d.online ? 'online' : 'offline' }, d.online ? 'online' : 'offline'),
      el('span', { class: 'actions' }, rename, revoke),
      el('span', { class: 'meta' }, d.platform + ' · ' + d.pending + ' pending · last seen ' + ago(d.lastSeenAt) + ' · paired ' + ago(d.pairedAt) +
        // Cluster mode: the node holding the phone's connection.
        (d.node === undefined ? '' : d.node ? ' · on node ' + d.node : ' · on no node')));
    return li;
  },
  renameForm(d) {
    const input = el('input', { value: d.name, maxLength: 64, required: true, name: 'name', 'aria-label': 'New name' });
    const form = el('form', {}, input, el('button', { type: 'submit' }, 'Save'));
    const cancel = el('button', { type: 'button', class: 'quiet' }, 'Cancel');
    cancel.addEventListener('click', () => { this.editing = null; this.refresh().catch(report); });
    form.append(cancel);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      api('PATCH', '/api/v1/devices/' + encodeURIComponent(d.id), { name: input.value })
        .then(() => { this.editing = null; return this.refresh(); })
        .catch(report);
    });
    return form;
  },
};

// ── send ────────────────────────────────────────────────────────────────────
const sendPanel = {
  start() {
    $('send-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const body = { title: $('send-title').value, priority: Number($('send-priority').value), app: 'beep dashboard' };
      if ($('send-body').value) body.body = $('send-body').value;
      api('POST', '/api/v1/notifications', body)
        .then((r) => ($('send-result').textContent = r.error ? 'Not accepted: ' + r.error.message : 'Sent (' + r.id + ').'))
        .catch((err) => ($('send-result').textContent = 'Failed: ' + err.message));
    });
  },
};

// ── live feed ───────────────────────────────────────────────────────────────
const feedPanel = {
  entries: new Map(),
  async start() {
    // The stream opens first and its deltas wait for the snapshot, so nothing in between is missed
    // (a delta repeats what the snapshot may already show; applying it again changes nothing).
    let early = [];
    const source = new EventSource('/api/v1/activity/stream');
    source.addEventListener('activity', (e) => {
      const delta = JSON.parse(e.data);
      if (early) early.push(delta);
      else this.apply(delta);
    });
    for (const entry of (await api('GET', '/api/v1/activity')).reverse()) this.entries.set(entry.id, entry);
    for (const delta of early) this.apply(delta, false);
    early = null;
    this.render();
  },
  /** A delta: new entries whole, then each changed delivery and dismissal. */
  apply(delta, render = true) {
    for (const entry of delta.added) {
      this.entries.delete(entry.id);
      this.entries.set(entry.id, entry);
    }
    for (const { id, ...delivery } of delta.deliveries) {
      const entry = this.entries.get(id);
      if (!entry) continue;
      const at = entry.deliveries.findIndex((d) => d.deviceId === delivery.deviceId);
      if (at >= 0) entry.deliveries[at] = delivery;
      else entry.deliveries.push(delivery);
    }
    for (const { id, devices, acked } of delta.others ?? []) {
      const entry = this.entries.get(id);
      if (entry) entry.others = { devices, acked };
    }
    for (const { id, by, at } of delta.dismissed) {
      const entry = this.entries.get(id);
      if (entry) entry.dismissed = { by, at };
    }
    while (this.entries.size > 100) this.entries.delete(this.entries.keys().next().value);
    if (render) this.render();
  },
  render() {
    const items = [...this.entries.values()].reverse();
    $('feed-empty').hidden = items.length > 0;
    $('feed').replaceChildren(...items.map((n) => el('li', { 'data-notification': n.id, class: n.dismissed ? 'dismissed' : null },
      el('div', { class: 'line' },
        el('span', { class: 'title' }, n.title),
        el('span', { class: 'muted small' }, (n.app ? n.app + ' · ' : '') + PRIORITY[n.priority] + ' · ' + n.source + ' · ' + new Date(n.createdAt).toLocaleTimeString())),
      el('div', { class: 'where' },
        ...(n.deliveries.length
          ? n.deliveries.map((d) => el('span', { class: 'pill', 'data-status': d.state, 'data-device': d.deviceId }, d.deviceName + (d.state === 'acked' ? ' ✓ acknowledged' : ' · sent, awaiting ack')))
          : n.dismissed ? [] : [el('span', { class: 'muted small' }, 'no device online: kept until one connects')]),
        n.others ? el('span', { class: 'muted small', 'data-others': String(n.others.devices) }, `and ${n.others.devices} more devices, ${n.others.acked} acknowledged`) : null,
        n.dismissed
          ? el('span', { class: 'pill', 'data-status': 'dismissed' }, n.dismissed.by === 'desktop' ? 'closed on the desktop' : 'dismissed on ' + n.dismissed.by)
          : null))));
  },
};

// ── charts ──────────────────────────────────────────────────────────────────
const chartsPanel = {
  interval: 5000,
  async refresh() {
    const { points } = await api('GET', '/api/v1/stats');
    draw('chart-latency', points, [(p) => p.latencyMeanMs, (p) => p.latencyP95Ms]);
    draw('chart-throughput', points, [(p) => p.accepted, (p) => p.delivered]);
    draw('chart-queue', points, [(p) => p.queueDepth]);
    draw('chart-memory', points, [(p) => p.rssMb, (p) => p.heapMb]);
  },
};

function draw(id, points, series) {
  const svg = $(id);
  const ns = 'http://www.w3.org/2000/svg';
  const values = points.flatMap((p) => series.map((f) => f(p))).filter((v) => v !== null);
  const max = Math.max(1, ...values);
  const n = Math.max(points.length - 1, 1);
  const xy = (x, v) => [((x / n) * 300).toFixed(1), (96 - (v / max) * 90).toFixed(1)];
  const shapes = series.flatMap((f, i) => {
    const cls = i === 0 ? 'a' : 'b';
    const pts = points.map((p, x) => [x, f(p)]).filter(([, v]) => v !== null);
    if (pts.length === 1) {
      // One point is not a line: mark it.
      const dot = document.createElementNS(ns, 'rect');
      const [x, y] = xy(pts[0][0], pts[0][1]);
      for (const [k, v] of [['x', x - 1.5], ['y', y - 1.5], ['width', 3], ['height', 3], ['class', 'dot-' + cls]]) dot.setAttribute(k, String(v));
      return [dot];
    }
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', pts.map(([x, v], k) => (k ? 'L' : 'M') + xy(x, v).join(' ')).join(' ') || 'M0 96');
    path.setAttribute('class', cls);
    return [path];
  });
  svg.replaceChildren(...shapes);
  const figure = svg.parentElement;
  const minutes = points.length ? Math.max(1, Math.round((Date.now() - points[0].t) / 60000)) : 0;
  figure.querySelector('.axis span').textContent = points.length ? minutes + ' min ago · peak ' + Math.round(max * 10) / 10 : 'no data yet';
}

// ── login and wiring ────────────────────────────────────────────────────────
function showLogin() {
  $('panels').hidden = true;
  $('logout').hidden = true;
  $('login-needed').hidden = false;
  $('overall').textContent = 'logged out';
  fetch('/dashboard/login/options', { credentials: 'same-origin' })
    .then((res) => res.json())
    .then((options) => {
      $('password-form').hidden = !options.password;
      $('login-totp-label').hidden = !options.totp;
      $('login-totp').required = Boolean(options.totp);
    })
    .catch(report);
}

async function passwordLogin(event) {
  event.preventDefault();
  const body = { password: $('login-password').value };
  if (!$('login-totp-label').hidden) body.totp = $('login-totp').value;
  const res = await fetch('/dashboard/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    credentials: 'same-origin',
  });
  if (res.status === 204) return location.reload();
  const data = await res.json().catch(() => null);
  $('login-error').textContent = (data && data.error && data.error.message) || 'Login failed (HTTP ' + res.status + ').';
  $('login-password').value = '';
}

async function main() {
  $('password-form').addEventListener('submit', (event) => passwordLogin(event).catch(report));
  let session;
  try {
    session = await client.call('GET', '/api/v1/dashboard/session');
  } catch {
    return showLogin();
  }
  if (!session) return;
  client.setCsrf(session.csrfToken);
  $('panels').hidden = false;
  $('logout').hidden = false;
  $('logout').addEventListener('click', () => api('POST', '/api/v1/dashboard/logout').then(showLogin, report));
  const context = { api, gatewayUrl: session.gatewayUrl };
  const panels = [statusPanel, devicesPanel, sendPanel, feedPanel, tokensPanel(context), scheduledPanel(context), rulesPanel(context), auditPanel(context), chartsPanel];
  for (const panel of panels) {
    if (panel.start) await Promise.resolve(panel.start()).catch(report);
    if (panel.refresh) {
      panel.refresh().catch(report);
      setInterval(() => panel.refresh().catch(report), panel.interval);
    }
  }
}

main();
