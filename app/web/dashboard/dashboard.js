// Beep dashboard: plain script, served locally, no inline code (strict CSP). Each panel is an
// object with refresh() (and optional start()); add rules or audit-log panels the same way.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  let csrfToken = null;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') node.className = v;
      else if (k.startsWith('data-')) node.setAttribute(k, v);
      else node[k] = v;
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }

  async function api(method, path, body) {
    const headers = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
    const text = await res.text();
    const data = text ? JSON.parse(text) : null;
    if (res.status === 401) showLogin();
    if (!res.ok && res.status !== 503) throw new Error((data && data.error && data.error.message) || 'HTTP ' + res.status);
    return data;
  }

  function ago(iso) {
    if (!iso) return 'never';
    const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    if (s < 60) return s + ' s ago';
    if (s < 3600) return Math.round(s / 60) + ' min ago';
    if (s < 86400) return Math.round(s / 3600) + ' h ago';
    return Math.round(s / 86400) + ' d ago';
  }

  const PRIORITY = { 1: 'min', 2: 'low', 3: 'default', 4: 'high', 5: 'urgent' };

  // ── status ────────────────────────────────────────────────────────────────
  const statusPanel = {
    interval: 10000,
    async refresh() {
      const report = await api('GET', '/health/detailed');
      const overall = $('overall');
      overall.textContent = report.status === 'ok' ? 'healthy' : report.status;
      overall.dataset.status = report.status;
      const list = $('checks');
      list.replaceChildren(
        ...Object.entries(report.checks).map(([name, c]) =>
          el('li', { 'data-check': name },
            el('span', {}, name),
            el('span', { class: 'pill', 'data-status': c.status }, c.status),
            el('span', { class: 'muted small' }, c.latencyMs + ' ms'),
            c.reason ? el('span', { class: 'reason' }, c.reason) : null)),
      );
    },
  };

  // ── devices ───────────────────────────────────────────────────────────────
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
        el('span', { class: 'meta' }, d.platform + ' · ' + d.pending + ' pending · last seen ' + ago(d.lastSeenAt) + ' · paired ' + ago(d.pairedAt)));
      return li;
    },
    renameForm(d) {
      const input = el('input', { value: d.name, maxLength: 64, required: true, name: 'name' });
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

  // ── send ──────────────────────────────────────────────────────────────────
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

  // ── live feed ─────────────────────────────────────────────────────────────
  const feedPanel = {
    entries: new Map(),
    async start() {
      for (const entry of (await api('GET', '/api/v1/activity')).reverse()) this.entries.set(entry.id, entry);
      this.render();
      const source = new EventSource('/api/v1/activity/stream');
      source.addEventListener('notification', (e) => {
        const entry = JSON.parse(e.data);
        this.entries.delete(entry.id);
        this.entries.set(entry.id, entry);
        while (this.entries.size > 100) this.entries.delete(this.entries.keys().next().value);
        this.render();
      });
    },
    render() {
      const items = [...this.entries.values()].reverse();
      $('feed-empty').hidden = items.length > 0;
      $('feed').replaceChildren(...items.map((n) => el('li', { 'data-notification': n.id },
        el('div', { class: 'line' },
          el('span', { class: 'title' }, n.title),
          el('span', { class: 'muted small' }, (n.app ? n.app + ' · ' : '') + PRIORITY[n.priority] + ' · ' + n.source + ' · ' + new Date(n.createdAt).toLocaleTimeString())),
        el('div', { class: 'where' }, ...(n.deliveries.length
          ? n.deliveries.map((d) => el('span', { class: 'pill', 'data-status': d.state, 'data-device': d.deviceId }, d.deviceName + (d.state === 'acked' ? ' ✓ acknowledged' : ' · sent, awaiting ack')))
          : [el('span', { class: 'muted small' }, 'no device online: kept until one connects')])))));
    },
  };

  // ── charts ────────────────────────────────────────────────────────────────
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

  // ── wiring ────────────────────────────────────────────────────────────────
  // ── rules ─────────────────────────────────────────────────────────────────
  const rulesPanel = {
    interval: 60000,
    dirty: false,
    start() {
      $('rules-json').addEventListener('input', () => (this.dirty = true));
      $('rules-form').addEventListener('submit', (event) => {
        event.preventDefault();
        this.save().catch(report);
      });
    },
    async refresh() {
      if (this.dirty) return; // never overwrite what the user is typing
      const rules = await api('GET', '/api/v1/rules');
      $('rules-json').value = JSON.stringify(rules, null, 2);
    },
    async save() {
      const result = $('rules-result');
      let rules;
      try {
        rules = JSON.parse($('rules-json').value);
      } catch (err) {
        result.textContent = 'Not valid JSON: ' + err.message;
        result.className = 'small error';
        return;
      }
      try {
        const saved = await api('PUT', '/api/v1/rules', rules);
        this.dirty = false;
        $('rules-json').value = JSON.stringify(saved, null, 2);
        result.textContent = 'Saved; applied from the next notification.';
        result.className = 'small';
      } catch (err) {
        result.textContent = err.message;
        result.className = 'small error';
      }
    },
  };

  // ── audit log ─────────────────────────────────────────────────────────────
  /** Long details (a config change lists every setting) are cut; the full text is in the tooltip. */
  function auditDetails(details) {
    const text = JSON.stringify(details);
    return el('div', { class: 'audit-details', title: text }, text.length > 200 ? text.slice(0, 200) + '…' : text);
  }

  const auditPanel = {
    interval: 15000,
    async refresh() {
      const [entries, verdict] = await Promise.all([api('GET', '/api/v1/audit?limit=50'), api('GET', '/api/v1/audit/verify')]);
      const pill = $('audit-verdict');
      pill.dataset.status = verdict.ok ? 'ok' : 'down';
      pill.textContent = verdict.ok ? 'chain intact (' + verdict.checked + ')' : 'broken at #' + verdict.seq + ': ' + verdict.problem;
      $('audit-empty').hidden = entries.length > 0;
      $('audit').replaceChildren(
        ...entries.map((e) =>
          el('li', { 'data-seq': String(e.seq) },
            el('div', { class: 'line' },
              el('span', { class: 'title' }, e.event ? e.event.replace(/_/g, ' ') : 'unreadable entry'),
              el('span', { class: 'muted small' }, (e.pending ? 'window open' : '#' + e.seq) + ' · ' + (e.actor || '') + ' · ' + ago(e.at))),
            e.details && Object.keys(e.details).length ? auditDetails(e.details) : null)),
      );
    },
  };

  const panels = [statusPanel, devicesPanel, sendPanel, feedPanel, rulesPanel, auditPanel, chartsPanel];

  function report(err) {
    console.error(err);
  }

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
      session = await api('GET', '/api/v1/dashboard/session');
    } catch (err) {
      return showLogin();
    }
    if (!session) return;
    csrfToken = session.csrfToken;
    $('panels').hidden = false;
    $('logout').hidden = false;
    $('logout').addEventListener('click', () => api('POST', '/api/v1/dashboard/logout').then(showLogin, report));
    for (const panel of panels) {
      if (panel.start) await Promise.resolve(panel.start()).catch(report);
      if (panel.refresh) {
        panel.refresh().catch(report);
        setInterval(() => panel.refresh().catch(report), panel.interval);
      }
    }
  }

  document.addEventListener('DOMContentLoaded', main);
})();
