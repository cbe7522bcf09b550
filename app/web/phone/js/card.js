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
export function renderCard(n, { showApp = false, expanded = false, result = null, relink } = {}) {
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
  fillAttachment(li.querySelector('.attachment'), n, relink);
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

/** Image types the daemon serves inline (attachments/attachment-routes.ts): previewed. */
const PREVIEWED = /^image\/(png|jpeg|gif|webp)$/;

/**
 * A file the daemon stores (a signed `/file/…` link, PROTOCOL.md "Attachments"): an image is
 * previewed, anything else is a link with its name and size. A publisher's own URL is only a
 * link, never loaded: the phone fetches nothing from a third party on its own.
 */
function fillAttachment(box, n, relink) {
  const a = n.attachment;
  if (!a || typeof a.url !== 'string' || typeof a.name !== 'string') return;
  const stored = a.url.startsWith('/file/');
  if (!stored && !/^https?:\/\//i.test(a.url)) return;
  const link = document.createElement('a');
  link.className = 'attachment-link';
  link.href = a.url;
  link.target = '_blank';
  link.rel = 'noopener noreferrer';
  const label = document.createElement('span');
  label.className = 'attachment-name';
  label.textContent = typeof a.size === 'number' ? `📎 ${a.name} · ${formatSize(a.size)}` : `📎 ${a.name}`;
  // A stored file's link lives an hour: past it (a notification kept from yesterday), ask for a fresh one first.
  const file = stored ? /^\/file\/([A-Za-z0-9_-]+)\?/.exec(a.url)?.[1] : undefined;
  let img = null;
  if (stored && PREVIEWED.test(a.type ?? '')) {
    img = document.createElement('img');
    img.alt = a.name;
    img.loading = 'lazy';
    img.decoding = 'async';
    let retried = false;
    img.addEventListener('error', () => {
      // A link from before a daemon restart fails though unexpired: one fresh link, then give up.
      if (!retried && file && relink) {
        retried = true;
        relink(file, true).then((fresh) => (fresh ? use(fresh) : gone()), gone);
        return;
      }
      gone();
    });
    link.append(img);
  }
  link.append(label);
  box.append(link);
  box.hidden = false;
  function use(url) {
    link.href = url;
    if (img) img.src = url;
  }
  function gone() {
    img?.remove();
    label.textContent = `📎 ${a.name} (no longer available)`;
  }
  const exp = Number(new URL(a.url, location.href).searchParams.get('exp'));
  if (file && relink && !(exp * 1000 > Date.now() + 60_000)) {
    relink(file).then((fresh) => (fresh ? use(fresh) : use(a.url)), () => use(a.url));
  } else {
    use(a.url);
  }
}

function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
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
