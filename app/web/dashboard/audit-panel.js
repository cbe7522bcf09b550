import { $, ago, el } from './lib.js';

// The audit log as a table: when, what, by whom, and the details as "key: value" pairs (a long
// value is cut, its full text in the tooltip), plus the hash chain's verdict.

/** Characters of one detail value shown before it is cut. */
const VALUE_CHARS = 80;

function words(event) {
  return event ? event.replace(/_/g, ' ') : 'unreadable entry';
}

/** A value as words: lists joined by commas, objects as key=value pairs, never JSON. */
function readable(value) {
  if (value === null || value === undefined) return '—';
  if (Array.isArray(value)) return value.map(readable).join(', ');
  if (typeof value === 'object') return Object.entries(value).map(([k, v]) => k + '=' + readable(v)).join(', ');
  return String(value);
}

/** "channel: socket", "code: invalid_token", …; a long value cut, its full text in the tooltip. */
function detailParts(details) {
  return Object.entries(details || {}).map(([key, value]) => {
    const text = readable(value);
    const cut = text.length > VALUE_CHARS ? text.slice(0, VALUE_CHARS) + '…' : text;
    return el('span', { class: 'detail', title: text.length > VALUE_CHARS ? text : undefined }, el('span', { class: 'muted' }, key + ': '), cut);
  });
}

function row(e) {
  const when = new Date(e.at);
  return el('tr', { 'data-seq': e.pending ? 'open' : String(e.seq) },
    el('td', { class: 'when', 'data-label': 'Time' }, el('time', { dateTime: e.at, title: when.toLocaleString() }, ago(e.at)), el('span', { class: 'muted small seq' }, e.pending ? ' window open' : ' #' + e.seq)),
    el('td', { class: 'event', 'data-label': 'Event' }, words(e.event)),
    el('td', { class: 'actor', 'data-label': 'By' }, e.actor || '—'),
    el('td', { class: 'details', 'data-label': 'Details' }, ...detailParts(e.details)));
}

/** The panel; `api` is the dashboard's admin API client. */
export function auditPanel({ api }) {
  return {
    interval: 15000,
    async refresh() {
      const [entries, verdict] = await Promise.all([api('GET', '/api/v1/audit?limit=50'), api('GET', '/api/v1/audit/verify')]);
      const pill = $('audit-verdict');
      pill.dataset.status = verdict.ok ? 'ok' : 'down';
      pill.textContent = verdict.ok ? 'chain intact (' + verdict.checked + ')' : 'broken at #' + verdict.seq + ': ' + verdict.problem;
      $('audit-empty').hidden = entries.length > 0;
      $('audit').replaceChildren(...entries.map(row));
    },
  };
}
