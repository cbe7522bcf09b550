import MarkdownIt from '../vendor/markdown-it.esm.min.js';
import DOMPurify from '../vendor/purify.es.js';

// Markdown bodies (`markdown: true` on the wire) as DOM: markdown-it with raw HTML off, then
// DOMPurify with a short list of tags and no style or event attributes (the CSP forbids inline
// style anyway), then every link checked and opened in a new tab. Nothing a notification says
// can add a script, an image from elsewhere or an attribute we did not list.

const md = new MarkdownIt({ html: false, linkify: true, breaks: true });
// Images would load from other hosts (refused by the CSP anyway): `![alt](url)` stays a link.
md.disable('image');
// Column alignment as the `align` attribute, not an inline style the CSP would refuse.
for (const rule of ['th_open', 'td_open']) {
  md.renderer.rules[rule] = (tokens, idx, options, env, self) => {
    const token = tokens[idx];
    const align = /text-align:(left|right|center)/.exec(token.attrGet('style') ?? '')?.[1];
    token.attrs = align ? [['align', align]] : null;
    return self.renderToken(tokens, idx, options);
  };
}

const ALLOWED_TAGS = ['p', 'br', 'strong', 'em', 's', 'del', 'code', 'pre', 'blockquote', 'ul', 'ol', 'li', 'a', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'table', 'thead', 'tbody', 'tr', 'th', 'td'];
const ALLOWED_ATTR = ['href', 'title', 'start', 'align'];
const SAFE_LINK = /^(https?:|mailto:)/i;

/** The body rendered and sanitised, as a fragment to insert; never throws (falls back to text). */
export function renderMarkdown(text) {
  let fragment;
  try {
    fragment = DOMPurify.sanitize(md.render(text), { ALLOWED_TAGS, ALLOWED_ATTR, RETURN_DOM_FRAGMENT: true });
  } catch (error) {
    console.warn('markdown not rendered', error);
    fragment = document.createDocumentFragment();
    fragment.append(text);
    return fragment;
  }
  for (const a of fragment.querySelectorAll('a')) {
    if (!SAFE_LINK.test(a.getAttribute('href') ?? '')) {
      a.replaceWith(...a.childNodes);
      continue;
    }
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
  }
  return fragment;
}
