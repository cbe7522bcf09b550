import { renderCard } from './card.js';
import { relativeTime } from './format.js';

// The notification list: newest first, grouped by app (a header only for an app with several
// notifications), searchable, filterable by app; tap for the full text; dismiss with the
// button or a sideways swipe; clear everything shown (two taps). Cards come from card.js.

/** Share of the card's width a swipe must travel to dismiss. */
const SWIPE_DISMISS = 0.35;
const NO_APP = 'Other';
/** ms of the fold-away transition in app.css. */
const LEAVE_MS = 200;
/** ms the armed "clear all" button waits for its second tap. */
const CLEAR_ARMED_MS = 4000;

const byId = (id) => document.getElementById(id);

/** Groups items (already newest first) by app; groups ordered by their newest item. */
export function groupByApp(items) {
  const groups = new Map();
  for (const n of items) {
    const app = n.app || NO_APP;
    if (!groups.has(app)) groups.set(app, []);
    groups.get(app).push(n);
  }
  return [...groups.entries()];
}

function matches(n, query) {
  if (!query) return true;
  const haystack = [n.title, n.body, n.app, ...(n.tags ?? [])].join('\n').toLowerCase();
  return query
    .toLowerCase()
    .split(/\s+/)
    .every((word) => haystack.includes(word));
}

/** Owns #list: what is shown, the search and app filter, expanded cards and gestures. */
export class ListView {
  constructor({ onDismiss, onClear, onAction, relink }) {
    this.onDismiss = onDismiss;
    this.onClear = onClear;
    this.onAction = onAction;
    /** The last result of an http action per notification id, shown on its card until it goes. */
    this.results = new Map();
    /** Asks the daemon for a fresh link to a stored attachment (its links expire). */
    this.relink = relink;
    this.items = [];
    this.visible = [];
    this.query = '';
    this.app = null;
    this.expanded = new Set();
    this.clearArmed = null;
    this.list = byId('list');
    this.chips = byId('app-filter');
    this.clearButton = byId('clear-all');
    byId('search').addEventListener('input', (e) => {
      this.query = e.target.value.trim();
      this.render();
    });
    this.clearButton.addEventListener('click', () => this.clearClicked());
    this.list.addEventListener('click', (e) => this.clicked(e));
    this.list.addEventListener('pointerdown', (e) => this.swipeStart(e));
    setInterval(() => this.refreshTimes(), 30_000);
  }

  show(items) {
    this.items = items;
    if (this.app && !items.some((n) => (n.app || NO_APP) === this.app)) this.app = null;
    this.render();
  }

  render() {
    this.renderChips();
    const visible = this.items.filter((n) => (!this.app || (n.app || NO_APP) === this.app) && matches(n, this.query));
    this.visible = visible;
    const fragment = document.createDocumentFragment();
    for (const [app, items] of groupByApp(visible)) fragment.append(this.group(app, items));
    this.list.replaceChildren(fragment);
    const empty = visible.length === 0;
    byId('empty').hidden = !empty;
    const filtered = this.items.length > 0;
    byId('empty-title').textContent = filtered ? 'Nothing matches' : 'All caught up';
    byId('empty-text').textContent = filtered ? 'Try another search or app.' : 'Notifications from your PC will appear here.';
    this.disarmClear();
  }

  renderChips() {
    const apps = [...new Set(this.items.map((n) => n.app || NO_APP))].sort((a, b) => a.localeCompare(b));
    this.chips.hidden = apps.length < 2;
    const chip = (label, value) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'chip';
      b.textContent = label;
      b.setAttribute('aria-pressed', String(this.app === value));
      b.addEventListener('click', () => {
        this.app = value;
        this.render();
      });
      return b;
    };
    this.chips.replaceChildren(chip('All', null), ...apps.map((a) => chip(a, a)));
  }

  /** Several from one app: a header and its cards. One: the card alone, naming its app. */
  group(app, items) {
    const node = byId('tpl-group').content.firstElementChild.cloneNode(true);
    const single = items.length === 1;
    if (single) {
      node.classList.add('single');
      node.querySelector('.group-head').remove();
    } else {
      node.querySelector('.group-name').textContent = app;
      node.querySelector('.group-count').textContent = String(items.length);
      node.querySelector('.group-count').setAttribute('aria-label', `${items.length} notifications`);
    }
    node.querySelector('.items').append(...items.map((n) => renderCard(n, { showApp: single, expanded: this.expanded.has(n.id), result: this.results.get(n.id), relink: this.relink })));
    return node;
  }

  /** Clear all (what the search and filter show): the first tap arms, the second clears. */
  clearClicked() {
    const ids = this.visible.map((n) => n.id);
    if (ids.length === 0) return;
    if (!this.clearArmed) {
      this.clearButton.textContent = `Clear ${ids.length}?`;
      this.clearButton.classList.add('armed');
      this.clearButton.setAttribute('aria-label', `Tap again to clear ${ids.length} notification${ids.length === 1 ? '' : 's'}`);
      this.clearArmed = setTimeout(() => this.disarmClear(), CLEAR_ARMED_MS);
      return;
    }
    this.disarmClear();
    for (const li of this.list.querySelectorAll('.item')) li.classList.add('leaving');
    setTimeout(() => this.onClear(ids), LEAVE_MS);
  }

  disarmClear() {
    clearTimeout(this.clearArmed);
    this.clearArmed = null;
    this.clearButton.hidden = this.visible.length === 0;
    this.clearButton.textContent = this.query || this.app ? 'Clear shown' : 'Clear all';
    this.clearButton.classList.remove('armed');
    this.clearButton.removeAttribute('aria-label');
  }

  clicked(event) {
    const li = event.target.closest('.item');
    if (!li || this.swiped) return;
    if (event.target.closest('.dismiss')) return this.dismiss(li);
    const button = event.target.closest('.action-button');
    if (button) return this.action(li, button);
    if (event.target.closest('a')) return; // a link in the text or "Open": follow it
    if (event.target.closest('.card-main, .body')) {
      const open = !li.classList.contains('expanded');
      li.classList.toggle('expanded', open);
      li.querySelector('.card-main').setAttribute('aria-expanded', String(open));
      if (open) this.expanded.add(li.dataset.id);
      else this.expanded.delete(li.dataset.id);
    }
  }

  /** A view action's link opens (and clears when it says so); an http action is sent by the PC, its result shown on the card. */
  async action(li, button) {
    const id = li.dataset.id;
    if (button.dataset.kind === 'view') {
      if (button.dataset.clear === 'true') this.dismiss(li);
      return;
    }
    if (button.getAttribute('aria-busy') === 'true') return;
    button.setAttribute('aria-busy', 'true');
    this.showResult(li, { ok: true, text: `${button.textContent}: sending…` });
    const reply = await this.onAction(id, button.dataset.actionId);
    button.removeAttribute('aria-busy');
    const result = reply?.ok
      ? { ok: reply.status >= 200 && reply.status < 300, text: `${button.textContent}: ${reply.status}${reply.body ? ` · ${reply.body.trim().slice(0, 200)}` : ''}` }
      : { ok: false, text: `${button.textContent}: ${reply?.error?.message ?? 'failed'}` };
    this.results.set(id, result);
    this.showResult(li, result);
  }

  showResult(li, result) {
    const shown = li.querySelector('.action-result');
    shown.textContent = result.text;
    shown.dataset.ok = String(result.ok);
    shown.hidden = false;
  }

  dismiss(li) {
    li.classList.add('leaving');
    const next = li.nextElementSibling ?? li.closest('.group')?.nextElementSibling?.querySelector('.item');
    next?.querySelector('.card-main')?.focus({ preventScroll: true });
    // Let the card fold away before the list is redrawn without it.
    setTimeout(() => this.onDismiss(li.dataset.id), LEAVE_MS);
  }

  /** Horizontal drag on a card; past SWIPE_DISMISS of its width it dismisses. */
  swipeStart(event) {
    const card = event.target.closest('.card');
    if (!card || event.button !== 0 || event.target.closest('a, .action-button, .dismiss')) return;
    const li = card.closest('.item');
    const x0 = event.clientX;
    const y0 = event.clientY;
    let dx = 0;
    let dragging = false;
    this.swiped = false;
    const move = (e) => {
      dx = e.clientX - x0;
      if (!dragging && Math.abs(dx) > 12 && Math.abs(dx) > Math.abs(e.clientY - y0)) {
        dragging = true;
        card.setPointerCapture(event.pointerId);
        li.classList.add('dragging');
      }
      if (dragging) card.style.transform = `translateX(${dx}px)`;
    };
    const end = () => {
      card.removeEventListener('pointermove', move);
      card.removeEventListener('pointerup', end);
      card.removeEventListener('pointercancel', end);
      if (!dragging) return;
      li.classList.remove('dragging');
      this.swiped = true;
      setTimeout(() => (this.swiped = false), 0);
      if (Math.abs(dx) > card.offsetWidth * SWIPE_DISMISS) {
        card.style.transform = `translateX(${dx > 0 ? '' : '-'}110%)`;
        this.dismiss(li);
      } else {
        card.style.transform = '';
      }
    };
    card.addEventListener('pointermove', move);
    card.addEventListener('pointerup', end);
    card.addEventListener('pointercancel', end);
  }

  refreshTimes() {
    for (const time of this.list.querySelectorAll('time.when')) time.textContent = relativeTime(time.dateTime);
  }
}
