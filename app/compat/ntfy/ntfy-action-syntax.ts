// ntfy's short action format, read by ntfy's own rules (docs/publish.md, "Action buttons";
// server/actions.go): actions separated by `;`, sections by `,`; a section is `key=value` or a
// bare value, and the first three bare values are the action, the label and (view, http) the
// URL. Values may be quoted with `"` or `'` (a backslash escapes the quote) to hold `,` or `;`;
// unquoted values are trimmed. `headers.<name>=` and `extras.<name>=` fill maps. Pure; linear.
//
//   parseSimpleActions('view, "Open, now", https://a.lan/, clear=true; http, Off, https://b.lan/, method=PUT', 3)
//   // → [{ action: 'view', label: 'Open, now', url: 'https://a.lan/', clear: true, ... }, { action: 'http', ... }]

/** An action as written, before validation (strings empty when absent). */
export interface RawAction {
  action: string;
  label: string;
  url: string;
  clear: boolean;
  method: string;
  body: string;
  intent: string;
  headers: Record<string, string>;
  extras: Record<string, string>;
}

const KEY = /^([-.\w]+)\s*=\s*/;
const CLEAR_VALUES = ['true', 'yes', '1', 'false', 'no', '0'];

function emptyAction(): RawAction {
  return { action: '', label: '', url: '', clear: false, method: '', body: '', intent: '', headers: Object.create(null), extras: Object.create(null) };
}

/** Applies one `key=value` (or bare value at `section`) to the action; throws on an unknown term or key. */
function populate(a: RawAction, section: number, key: string, value: string): void {
  if (key === '' && section === 0) key = 'action';
  else if (key === '' && section === 1) key = 'label';
  else if (key === '' && section === 2 && ['view', 'http'].includes(a.action.toLowerCase())) key = 'url';
  if (key === '') throw new Error(`term '${value}' unknown`);
  if (key.startsWith('headers.')) return void (a.headers[key.slice('headers.'.length)] = value);
  if (key.startsWith('extras.')) return void (a.extras[key.slice('extras.'.length)] = value);
  switch (key.toLowerCase()) {
    case 'action': a.action = value; return;
    case 'label': a.label = value; return;
    case 'url': a.url = value; return;
    case 'method': a.method = value; return;
    case 'body': a.body = value; return;
    case 'intent': a.intent = value; return;
    case 'clear':
      if (!CLEAR_VALUES.includes(value.toLowerCase())) throw new Error(`parameter 'clear' cannot be '${value}', only true/yes/1/false/no/0`);
      a.clear = ['true', 'yes', '1'].includes(value.toLowerCase());
      return;
    default:
      throw new Error(`key '${key}' unknown`);
  }
}

/** A cursor over the input; each method advances it. */
class Cursor {
  pos = 0;
  constructor(private readonly input: string) {}

  get done(): boolean {
    return this.pos >= this.input.length;
  }

  peek(): string {
    return this.input[this.pos] ?? '';
  }

  skipSpaces(): void {
    while (/^[ \t\r\n]$/.test(this.peek())) this.pos++;
  }

  key(): string {
    const m = KEY.exec(this.input.slice(this.pos));
    if (!m) return '';
    this.pos += m[0].length;
    return m[1];
  }

  /** Up to the next `,` `;` or the end, trimmed; says whether the action ended there. */
  plain(): { value: string; last: boolean } {
    const start = this.pos;
    while (!this.done && this.peek() !== ',' && this.peek() !== ';') this.pos++;
    const value = this.input.slice(start, this.pos).trim();
    const last = this.done || this.peek() === ';';
    this.pos++;
    return { value, last };
  }

  /** A quoted value (the cursor on its opening quote), then the section's end. */
  quoted(): { value: string; last: boolean } {
    const quote = this.peek();
    const start = ++this.pos;
    let prev = '';
    for (;;) {
      if (this.done) throw new Error(`unexpected end of input, quote started at position ${start}`);
      const c = this.peek();
      if (c === quote && prev !== '\\') break;
      prev = c;
      this.pos++;
    }
    const value = this.input.slice(start, this.pos).split(`\\${quote}`).join(quote);
    this.pos++;
    this.skipSpaces();
    const end = this.peek();
    if (!this.done && end !== ',' && end !== ';') throw new Error(`unexpected character '${end}' at position ${this.pos}`);
    this.pos++;
    return { value, last: end === '' || end === ';' };
  }
}

function section(c: Cursor): { key: string; value: string; last: boolean } {
  c.skipSpaces();
  const key = c.key();
  const next = c.peek();
  if (c.done || next === ',' || next === ';') {
    c.pos++;
    return { key, value: '', last: next === '' || next === ';' };
  }
  const { value, last } = next === '"' || next === "'" ? c.quoted() : c.plain();
  return { key, value, last };
}

/** Every action of a short-format string, unvalidated; throws with ntfy's wording on a syntax error. Stops past `max` + 1 actions. */
export function parseSimpleActions(input: string, max: number): RawAction[] {
  const c = new Cursor(input);
  const actions: RawAction[] = [];
  while (!c.done && actions.length <= max) {
    const a = emptyAction();
    for (let n = 0; ; n++) {
      const s = section(c);
      populate(a, n, s.key, s.value);
      c.skipSpaces();
      if (s.last) break;
    }
    actions.push(a);
  }
  return actions;
}
