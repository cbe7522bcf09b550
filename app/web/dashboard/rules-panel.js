import { $, el } from './lib.js';

// The rules (GET/PUT /api/v1/rules) as a form: apps allowed and denied, the lowest priority,
// quiet-hour windows, keyword rules, repeats and bursts. "Edit as JSON" shows the same rules
// raw. Fields the form does not know (a newer daemon's) are kept as they were loaded.

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const DAY_NAMES = { mon: 'Mon', tue: 'Tue', wed: 'Wed', thu: 'Thu', fri: 'Fri', sat: 'Sat', sun: 'Sun' };

const list = (text) => text.split(',').map((s) => s.trim()).filter(Boolean);
const number = (input, fallback) => (input.value.trim() === '' ? fallback : Number(input.value));

function windowRow(w = { days: DAYS, start: '22:00', end: '07:00' }) {
  const row = $('tpl-window').content.firstElementChild.cloneNode(true);
  const days = row.querySelector('.days');
  for (const day of DAYS) {
    days.append(el('label', { class: 'day' }, el('input', { type: 'checkbox', value: day, checked: w.days.includes(day) }), DAY_NAMES[day]));
  }
  row.querySelector('.start').value = w.start;
  row.querySelector('.end').value = w.end;
  row.querySelector('.remove').addEventListener('click', () => row.remove());
  return row;
}

function keywordRow(k = { pattern: '', flags: 'i', action: 'mute', apps: [], replacement: '•••' }) {
  const row = $('tpl-keyword').content.firstElementChild.cloneNode(true);
  row.querySelector('.pattern').value = k.pattern;
  row.querySelector('.action').value = k.action;
  row.querySelector('.replacement').value = k.replacement ?? '•••';
  row.querySelector('.apps').value = (k.apps || []).join(', ');
  row.querySelector('.ignore-case').checked = (k.flags ?? 'i').includes('i');
  row.dataset.otherFlags = (k.flags ?? '').replace(/i/g, ''); // m and s have no checkbox; kept
  const showReplacement = () => (row.querySelector('.replacement-label').hidden = row.querySelector('.action').value !== 'redact');
  row.querySelector('.action').addEventListener('change', showReplacement);
  showReplacement();
  row.querySelector('.remove').addEventListener('click', () => row.remove());
  return row;
}

function fill(rules) {
  $('rule-allow').value = rules.apps.allow.join(', ');
  $('rule-deny').value = rules.apps.deny.join(', ');
  $('rule-min-priority').value = String(rules.minPriority);
  $('rule-time-zone').value = rules.quietHours.timeZone ?? '';
  $('rule-allow-urgent').checked = rules.quietHours.allowUrgent;
  $('rule-windows').replaceChildren(...rules.quietHours.windows.map(windowRow));
  $('rule-keywords').replaceChildren(...rules.keywords.map(keywordRow));
  $('rule-duplicates').value = String(rules.duplicates.windowSec);
  $('rule-burst-threshold').value = String(rules.burst.threshold);
  $('rule-burst-window').value = String(rules.burst.windowSec);
}

/** The form's rules, over `base` so fields the form does not show survive. */
function read(base) {
  const windows = [...$('rule-windows').children].map((row) => ({
    days: [...row.querySelectorAll('.days input:checked')].map((i) => i.value),
    start: row.querySelector('.start').value,
    end: row.querySelector('.end').value,
  }));
  const keywords = [...$('rule-keywords').children].map((row) => ({
    pattern: row.querySelector('.pattern').value,
    flags: (row.querySelector('.ignore-case').checked ? 'i' : '') + (row.dataset.otherFlags || ''),
    action: row.querySelector('.action').value,
    apps: list(row.querySelector('.apps').value),
    replacement: row.querySelector('.replacement').value,
  }));
  return {
    ...base,
    apps: { ...base.apps, allow: list($('rule-allow').value), deny: list($('rule-deny').value) },
    minPriority: Number($('rule-min-priority').value),
    quietHours: { ...base.quietHours, timeZone: $('rule-time-zone').value.trim() || null, allowUrgent: $('rule-allow-urgent').checked, windows },
    keywords,
    duplicates: { ...base.duplicates, windowSec: number($('rule-duplicates'), 0) },
    burst: { ...base.burst, threshold: number($('rule-burst-threshold'), 0), windowSec: number($('rule-burst-window'), 10) },
  };
}

function say(text, error = false) {
  $('rules-result').textContent = text;
  $('rules-result').className = error ? 'small error' : 'small';
}

/** The panel; `api` is the dashboard's admin API client. */
export function rulesPanel({ api }) {
  let loaded = null;
  let dirty = false;
  const raw = () => $('rules-advanced').checked;
  const show = (rules) => {
    loaded = rules;
    fill(rules);
    $('rules-json').value = JSON.stringify(rules, null, 2);
  };
  return {
    interval: 60000,
    start() {
      const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
      $('time-zones').replaceChildren(...zones.map((z) => el('option', { value: z })));
      $('rules-form').addEventListener('input', () => (dirty = true));
      $('rule-add-window').addEventListener('click', () => {
        $('rule-windows').append(windowRow());
        dirty = true;
      });
      $('rule-add-keyword').addEventListener('click', () => {
        const row = keywordRow();
        $('rule-keywords').append(row);
        row.querySelector('.pattern').focus();
        dirty = true;
      });
      $('rules-advanced').addEventListener('change', () => this.toggleRaw());
      $('rules-form').addEventListener('submit', (event) => {
        event.preventDefault();
        this.save();
      });
    },
    /** Form → JSON keeps what was typed; JSON → form only when the JSON parses. */
    toggleRaw() {
      if (raw()) {
        if (loaded) $('rules-json').value = JSON.stringify(read(loaded), null, 2);
      } else {
        try {
          const rules = JSON.parse($('rules-json').value);
          fill(rules);
          loaded = rules;
        } catch (err) {
          $('rules-advanced').checked = true;
          return say('Fix the JSON first: ' + err.message, true);
        }
      }
      $('rules-raw').hidden = !raw();
      $('rules-fields').hidden = raw();
      say('');
    },
    async refresh() {
      if (dirty) return; // never overwrite what the user is typing
      show(await api('GET', '/api/v1/rules'));
    },
    async save() {
      let rules;
      if (raw()) {
        try {
          rules = JSON.parse($('rules-json').value);
        } catch (err) {
          return say('Not valid JSON: ' + err.message, true);
        }
      } else {
        if (!loaded) return say('The rules have not loaded yet.', true);
        rules = read(loaded);
      }
      try {
        show(await api('PUT', '/api/v1/rules', rules));
        dirty = false;
        say('Saved; applied from the next notification.');
      } catch (err) {
        const problems = err.details && Array.isArray(err.details.problems) ? err.details.problems.map((p) => p.message) : [];
        say(problems.length > 1 ? 'Not saved: ' + problems.join('; ') : err.message, true);
      }
    },
  };
}
