// Small helpers every dashboard panel shares: the admin API client (session cookie + CSRF
// token on writes), an element builder (text only, never HTML), relative times, copy buttons.

export const $ = (id) => document.getElementById(id);

/** The API client: one per page; `csrf` is set once the session is known. */
export function createApi(onUnauthenticated) {
  const state = { csrf: null };
  async function call(method, path, body) {
    const headers = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && state.csrf) headers['x-csrf-token'] = state.csrf;
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
    const text = await res.text();
    const data = text ? JSON.parse(text) : null;
    if (res.status === 401) onUnauthenticated();
    if (!res.ok && res.status !== 503) {
      const error = new Error((data && data.error && data.error.message) || 'HTTP ' + res.status);
      error.code = data && data.error && data.error.code;
      error.details = data && data.error && data.error.details;
      throw error;
    }
    return data;
  }
  return { call, setCsrf: (token) => (state.csrf = token) };
}

/** An element with attributes and children; strings become text nodes. */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k.startsWith('data-') || k.startsWith('aria-') || k === 'for' || k === 'role') node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

/** "12 s ago", "3 min ago", "2 h ago", "4 d ago". */
export function ago(iso) {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return s + ' s ago';
  if (s < 3600) return Math.round(s / 60) + ' min ago';
  if (s < 86400) return Math.round(s / 3600) + ' h ago';
  return Math.round(s / 86400) + ' d ago';
}

/** A button that copies `text` and says so (select-and-copy where the Clipboard API is missing). */
export function copyButton(text, label = 'Copy') {
  const button = el('button', { type: 'button', class: 'quiet copy' }, label);
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = 'Copied';
    } catch {
      button.textContent = 'Select and copy';
    }
    setTimeout(() => (button.textContent = label), 2000);
  });
  return button;
}

/** Logs what a panel could not do; the panel's own status line says it to the user. */
export function report(err) {
  console.error(err);
}
