import { $, el, report } from './lib.js';

// Scheduled notifications (GET/DELETE /api/v1/scheduled): what ntfy publishers sent with a
// delay and is not due yet, earliest first, each with when it goes out; cancel one (two clicks).

/** "in 12 s", "in 3 min", "in 2 h", "in 2 d"; "due now" once past. */
function dueIn(iso) {
  const s = Math.round((Date.parse(iso) - Date.now()) / 1000);
  if (s <= 0) return 'due now';
  if (s < 60) return 'in ' + s + ' s';
  if (s < 3600) return 'in ' + Math.round(s / 60) + ' min';
  if (s < 86400) return 'in ' + Math.round(s / 3600) + ' h';
  return 'in ' + Math.round(s / 86400) + ' d';
}

export function scheduledPanel({ api }) {
  return {
    interval: 5000,
    confirming: null,
    async refresh() {
      const list = await api('GET', '/api/v1/scheduled');
      $('no-scheduled').hidden = list.length > 0;
      $('scheduled').replaceChildren(...list.map((s) => this.row(s)));
    },
    row(s) {
      const confirming = this.confirming === s.id;
      const cancel = el('button', { type: 'button', class: 'danger' }, confirming ? 'Confirm cancel' : 'Cancel');
      cancel.setAttribute('aria-label', (confirming ? 'Confirm cancelling ' : 'Cancel ') + s.title);
      cancel.addEventListener('click', () => {
        if (this.confirming !== s.id) {
          this.confirming = s.id;
          return this.refresh().catch(report);
        }
        this.confirming = null;
        api('DELETE', '/api/v1/scheduled/' + encodeURIComponent(s.id)).then(() => this.refresh()).catch(report);
      });
      const due = el('time', { dateTime: s.dueAt, title: new Date(s.dueAt).toLocaleString() }, dueIn(s.dueAt));
      return el('li', { 'data-scheduled': s.id },
        el('span', { class: 'name' }, s.title),
        s.topic ? el('span', { class: 'pill' }, s.topic) : '',
        el('span', { class: 'actions' }, cancel),
        el('span', { class: 'meta' }, due, ' · ', new Date(s.dueAt).toLocaleString(), ' · from ', s.app || 'unknown', s.body ? ' · ' + s.body.slice(0, 120) : ''));
    },
  };
}
