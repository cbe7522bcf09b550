import { splitTags } from './emoji-tags.js';
import { priorityOf, relativeTime } from './format.js';
import { renderMarkdown } from './markdown.js';

// One notification as a card, built from the #tpl-item <template>. Text goes in with
// textContent; only a Markdown body becomes markup, and only through renderMarkdown's sanitiser.

const byId = (id) => document.getElementById(id);

/**
 * The card for `n`. `showApp` puts the app's name on the card (an app with one notification
 * gets no group header); `expanded` shows the full text.
 */
export function renderCard(n, { showApp = false, expanded = false, result = null } = {}) {
  const p = priorityOf(n);
  const li = byId('tpl-item').content.firstElementChild.cloneNode(true);
  li.dataset.id = n.id;
  li.dataset.priority = p.name;
  li.querySelector('.prio use').setAttribute('href', `#i-p${p.level}`);
  const { emoji, rest } = splitTags(n.tags);
  const emojiSpan = li.querySelector('.emoji');
  emojiSpan.textContent = emoji.join('');
  emojiSpan.hidden = emoji.length === 0;
  li.querySelector('.title-text').textContent = n.title;
  fillBody(li.querySelector('.body'), n);
  fillActions(li.querySelector('.actions'), n);
  const shown = li.querySelector('.action-result');
  if (result) {
    shown.textContent = result.text;
    shown.dataset.ok = String(result.ok);
    shown.hidden = false;
  }
  const time = li.querySelector('.when');
  time.dateTime = n.createdAt;
  time.title = new Date(n.createdAt).toLocaleString();
  // History shown at pairing is marked: it arrived before this phone was paired.
  time.textContent = n.history ? `${relativeTime(n.createdAt)} · before pairing` : relativeTime(n.createdAt);
  if (n.history) li.dataset.history = 'true';
  fillMeta(li.querySelector('.tags'), n, p, rest, showApp);
  const main = li.querySelector('.card-main');
  main.setAttribute('aria-label', `${p.label}: ${n.title}${n.app ? `, from ${n.app}` : ''}, ${time.textContent}. Show full text.`);
  if (expanded) {
    li.classList.add('expanded');
    main.setAttribute('aria-expanded', 'true');
  }
  const link = li.querySelector('.open-link');
  if (n.url && /^https?:\/\//i.test(n.url)) {
    link.href = n.url;
    link.hidden = false;
    link.setAttribute('aria-label', `Open link of ${n.title} in a new tab`);
  }
  li.querySelector('.dismiss').setAttribute('aria-label', `Dismiss ${n.title}`);
  return li;
}

/**
 * ntfy's action buttons: a view action is a link (opened in a new tab), an http action a
 * button the PC performs when tapped (the list view asks it). Only http(s) links are made.
 */
function fillActions(box, n) {
  const actions = Array.isArray(n.actions) ? n.actions.slice(0, 3) : [];
  for (const a of actions) {
    if (typeof a?.label !== 'string' || typeof a.id !== 'string') continue;
    let el;
    if (a.action === 'view' && /^https?:\/\//i.test(a.url ?? '')) {
      el = document.createElement('a');
      el.href = a.url;
      el.target = '_blank';
      el.rel = 'noopener noreferrer';
    } else if (a.action === 'http') {
      el = document.createElement('button');
      el.type = 'button';
      el.title = `${a.method ?? 'POST'} ${a.url ?? ''} (sent by your PC)`;
    } else continue;
    el.className = 'action-button';
    el.dataset.actionId = a.id;
    el.dataset.kind = a.action;
    if (a.clear) el.dataset.clear = 'true';
    el.textContent = a.label;
    box.append(el);
  }
  box.hidden = box.childElementCount === 0;
}

function fillBody(body, n) {
  body.hidden = !n.body;
  if (!n.body) return;
  if (n.markdown === true) {
    body.classList.add('markdown');
    body.replaceChildren(renderMarkdown(n.body));
  } else {
    body.textContent = n.body;
  }
}

/** The small line under the text: the app (when no header names it), the priority word, the other tags, the time. */
function fillMeta(meta, n, p, tags, showApp) {
  const app = meta.querySelector('.app-name');
  app.textContent = n.app ?? '';
  app.hidden = !showApp || !n.app;
  const label = meta.querySelector('.prio-label');
  label.textContent = p.short;
  label.hidden = !p.short;
  const before = meta.querySelector('.open-link');
  for (const tag of tags) {
    const t = document.createElement('span');
    t.className = 'tag';
    t.textContent = tag;
    before.before(t);
  }
}
