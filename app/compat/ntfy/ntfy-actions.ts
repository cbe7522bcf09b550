import crypto from 'node:crypto';
import { MAX_ACTIONS, type NotificationAction } from '../../domain/action';
import { BeepError } from '../../domain/errors';
import { parseSimpleActions, type RawAction } from './ntfy-action-syntax';

// ntfy's action buttons (docs/publish.md, "Action buttons") as a publisher writes them: the
// `Actions`/`X-Actions` header (or `actions=` query) in the short format or as a JSON array,
// or `actions: [...]` in a JSON publish. Validated as ntfy validates them (at most three, a
// label, a URL for view and http, no body with GET/HEAD), plus Beep's own bounds: http(s) URLs
// only (the phone opens them in a browser), sizes, and header names the daemon can send.
// `broadcast` (an Android intent) is refused: no Beep phone can receive one.

const MAX_LABEL_BYTES = 128;
const MAX_URL_CHARS = 2048;
const MAX_HEADERS = 16;
const MAX_HEADER_VALUE_BYTES = 2048;
const MAX_ACTION_BODY_BYTES = 4096;
/** An HTTP token (RFC 9110) for header names and methods. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers the daemon sets itself when it performs the request, or that would split it. */
const RESERVED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'keep-alive', 'te', 'trailer', 'expect']);
const NO_BODY_METHODS = new Set(['GET', 'HEAD']);
const REFUSED_METHODS = new Set(['CONNECT', 'TRACE']);

function invalid(message: string): BeepError {
  return new BeepError('invalid_actions', `The actions are not valid: ${message}.`);
}

/** A random id per action (ntfy's are 10 characters), what a phone names when it asks for one. */
function actionId(): string {
  return crypto.randomBytes(8).toString('base64url').slice(0, 10);
}

function httpUrl(url: string): boolean {
  if (url.length > MAX_URL_CHARS) return false;
  try {
    return ['http:', 'https:'].includes(new URL(url).protocol);
  } catch {
    return false;
  }
}

function checkHeaders(headers: Record<string, string>): void {
  const names = Object.keys(headers);
  if (names.length > MAX_HEADERS) throw invalid(`at most ${MAX_HEADERS} headers per action`);
  for (const name of names) {
    if (!TOKEN.test(name)) throw invalid(`header name '${name}' is not valid`);
    if (RESERVED_HEADERS.has(name.toLowerCase())) throw invalid(`header '${name}' cannot be set`);
    const value = headers[name];
    // What HTTP/1.1 can carry in a field value (no CR, LF, NUL or other controls; Latin-1 at most).
    if (/[^\t\x20-\x7e\x80-\xff]/.test(value) || Buffer.byteLength(value) > MAX_HEADER_VALUE_BYTES) throw invalid(`the value of header '${name}' is not valid`);
  }
}

/** One parsed action checked and normalised (lowercase action, uppercase method, an id). */
function validate(raw: RawAction): NotificationAction {
  const action = raw.action.toLowerCase();
  if (action === 'broadcast') {
    throw new BeepError('unsupported_parameter', 'ntfy broadcast actions send an Android broadcast intent, which no Beep phone can receive; use a view or http action.');
  }
  if (action !== 'view' && action !== 'http') throw invalid(`parameter 'action' cannot be '${raw.action}', valid values are 'view' and 'http'`);
  if (raw.label === '') throw invalid("parameter 'label' is required");
  if (Buffer.byteLength(raw.label) > MAX_LABEL_BYTES) throw invalid(`the label is longer than ${MAX_LABEL_BYTES} bytes`);
  if (raw.url === '') throw invalid(`parameter 'url' is required for action '${action}'`);
  if (!httpUrl(raw.url)) throw invalid(`the url of '${raw.label}' must be an absolute http or https URL`);
  if (raw.intent !== '' || Object.keys(raw.extras).length > 0) throw invalid('intent and extras belong to broadcast actions');
  if (action === 'view') {
    if (raw.method !== '' || raw.body !== '' || Object.keys(raw.headers).length > 0) throw invalid('method, headers and body belong to http actions');
    return { id: actionId(), action, label: raw.label, url: raw.url, clear: raw.clear };
  }
  const method = raw.method === '' ? 'POST' : raw.method.toUpperCase();
  if (!TOKEN.test(method) || REFUSED_METHODS.has(method)) throw invalid(`method '${raw.method}' is not allowed`);
  if (NO_BODY_METHODS.has(method) && raw.body !== '') throw invalid(`parameter 'body' cannot be set if method is ${method}`);
  if (Buffer.byteLength(raw.body) > MAX_ACTION_BODY_BYTES) throw invalid(`the body is longer than ${MAX_ACTION_BODY_BYTES} bytes`);
  checkHeaders(raw.headers);
  return {
    id: actionId(), action, label: raw.label, url: raw.url, clear: raw.clear, method,
    ...(Object.keys(raw.headers).length ? { headers: { ...raw.headers } } : {}),
    ...(raw.body !== '' ? { body: raw.body } : {}),
  };
}

function stringMap(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(`'${field}' must be an object of strings`);
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw invalid(`'${field}.${k}' must be a string`);
    out[k] = v;
  }
  return out;
}

function str(o: Record<string, unknown>, field: string): string {
  const v = o[field];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw invalid(`'${field}' must be a string`);
  return v;
}

/** One element of a JSON actions array (ntfy's field names; unknown fields ignored, as ntfy's decoder does). */
function fromJsonItem(item: unknown): RawAction {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) throw invalid('each action must be a JSON object');
  const o = item as Record<string, unknown>;
  if (o.clear !== undefined && o.clear !== null && typeof o.clear !== 'boolean') throw invalid("'clear' must be a boolean");
  return {
    action: str(o, 'action'), label: str(o, 'label'), url: str(o, 'url'), method: str(o, 'method'), body: str(o, 'body'), intent: str(o, 'intent'),
    clear: o.clear === true, headers: stringMap(o.headers, 'headers'), extras: stringMap(o.extras, 'extras'),
  };
}

function checked(raw: RawAction[]): NotificationAction[] {
  if (raw.length > MAX_ACTIONS) throw invalid(`at most ${MAX_ACTIONS} actions are allowed`);
  return raw.map(validate);
}

/** `actions: [...]` of a JSON publish. */
export function actionsFromJson(value: unknown): NotificationAction[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid("'actions' must be an array");
  if (value.length > MAX_ACTIONS) throw invalid(`at most ${MAX_ACTIONS} actions are allowed`);
  return checked(value.map(fromJsonItem));
}

/** The `Actions` header or query parameter: a JSON array when it starts with `[`, else the short format. */
export function actionsFromHeader(value: string): NotificationAction[] {
  const text = value.trim();
  if (text.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw invalid(`JSON error: ${(error as Error).message}`);
    }
    return actionsFromJson(parsed);
  }
  try {
    return checked(parseSimpleActions(text, MAX_ACTIONS));
  } catch (error) {
    if (error instanceof BeepError) throw error;
    throw invalid((error as Error).message);
  }
}
