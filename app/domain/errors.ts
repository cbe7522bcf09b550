// The one catalog of errors: every route and socket handler throws these, and one edge
// handler per transport turns them into PROTOCOL.md's `{ error: { code, message } }`.

export interface ErrorSpec {
  status: number;
  message: string;
}

export const ERRORS = {
  validation_failed: { status: 400, message: 'The request is not valid.' },
  invalid_json: { status: 400, message: 'The request body is not valid JSON.' },
  json_too_deep: { status: 400, message: 'The JSON body is nested too deeply.' },
  unknown_field: { status: 400, message: 'The request has a field this API does not know.' },
  title_required: { status: 400, message: 'A title is required.' },
  title_too_long: { status: 400, message: 'The title is longer than 256 bytes.' },
  body_too_long: { status: 400, message: 'The body is longer than 4096 bytes.' },
  app_too_long: { status: 400, message: 'The app name is longer than 64 bytes.' },
  invalid_priority: { status: 400, message: 'The priority must be 1-5 or min, low, default, high, urgent.' },
  too_many_tags: { status: 400, message: 'At most 10 tags are allowed.' },
  invalid_tag: { status: 400, message: 'Each tag must be a non-empty string of at most 32 bytes.' },
  invalid_url: { status: 400, message: 'The url must be an absolute http or https URL.' },
  invalid_topic: { status: 400, message: 'The topic must match [A-Za-z0-9_-]{1,64}.' },
  invalid_id: { status: 400, message: 'The id must match [A-Za-z0-9_-]{1,64}.' },
  invalid_type: { status: 400, message: 'A field has the wrong type.' },
  invalid_rules: { status: 400, message: 'The rules are not valid.' },
  invalid_query: { status: 400, message: 'A query parameter is not valid.' },
  reserved_topic: { status: 400, message: 'This topic name is reserved for Beep\'s own routes.' },
  unsupported_parameter: { status: 400, message: 'Beep does not support this ntfy or Gotify parameter.' },
  invalid_delay: { status: 400, message: 'The delay must be a duration (30m, 2 days), a Unix time or a time of day, within the allowed range.' },
  delay_without_cache: { status: 400, message: 'cannot disable cache for delayed message' },
  scheduled_not_found: { status: 404, message: 'No such scheduled notification.' },
  invalid_actions: { status: 400, message: 'The action buttons are not valid.' },
  unauthenticated: { status: 401, message: 'Authentication is required.' },
  invalid_token: { status: 401, message: 'The token is not valid.' },
  token_expired: { status: 401, message: 'The token has expired.' },
  device_revoked: { status: 401, message: 'This device has been revoked.' },
  pairing_code_invalid: { status: 401, message: 'The pairing code is wrong, used or expired.' },
  refresh_token_invalid: { status: 401, message: 'The refresh token is not valid.' },
  refresh_token_reused: { status: 401, message: 'The refresh token was already used; the device was signed out.' },
  forbidden: { status: 403, message: 'This is not allowed.' },
  csrf_failed: { status: 403, message: 'This write needs the X-CSRF-Token of the dashboard session.' },
  invalid_credentials: { status: 401, message: 'The password or one-time code is wrong.' },
  gotify_password_unset: { status: 401, message: 'No dashboard password is set: run `beep admin password set` on the PC, then log in as "admin" with it.' },
  gotify_totp_unsupported: { status: 403, message: 'The dashboard password is protected by a one-time code, which the Gotify app cannot send: run `beep admin password set` without --totp, or use `beep token create --subscribe`.' },
  password_login_disabled: { status: 404, message: 'No dashboard password is set; log in with `beep dashboard`.' },
  login_link_invalid: { status: 401, message: 'This login link is used, unknown or expired; run `beep dashboard` again.' },
  forbidden_host: { status: 403, message: 'The Host header is not a loopback name.' },
  token_forbidden: { status: 403, message: 'This token may not do this (wrong kind or topic).' },
  action_forbidden: { status: 403, message: 'This http action\'s host is not on compat.ntfy.httpActionHosts.' },
  not_found: { status: 404, message: 'Not found.' },
  device_not_found: { status: 404, message: 'No such device.' },
  token_not_found: { status: 404, message: 'No such token.' },
  payload_too_large: { status: 413, message: 'The request body is larger than 64 KiB.' },
  unsupported_media_type: { status: 415, message: 'The request body must be application/json.' },
  ca_changed: { status: 409, message: 'The certificate authority was replaced meanwhile; check `beep cert status`.' },
  rate_limited: { status: 429, message: 'Too many requests; try again later.' },
  ip_blocked: { status: 429, message: 'Too many refused requests in a row; this address is blocked for a while.' },
  forbidden_origin: { status: 403, message: 'Cross-origin requests are not allowed.' },
  password_invalid: { status: 400, message: 'The password does not meet the policy.' },
  totp_invalid: { status: 401, message: 'The one-time password is wrong or expired.' },
  action_failed: { status: 502, message: 'The http action\'s request failed.' },
  action_timeout: { status: 504, message: 'The http action\'s request timed out.' },
  invalid_attachment: { status: 400, message: 'The attachment URL must be an absolute http or https URL, and its file name at most 255 bytes.' },
  attachment_too_large: { status: 413, message: 'The attachment is too large, or the attachments\' total quota is full.' },
  attachment_link_invalid: { status: 403, message: 'This attachment link is expired or not valid; ask for the notification again.' },
  attachment_expired: { status: 410, message: 'The attachment has expired or was deleted.' },
  attachment_damaged: { status: 500, message: 'The attachment file is damaged; it is not served.' },
  not_accepted: { status: 503, message: 'The notification could not be stored; it was not accepted.' },
  unavailable: { status: 503, message: 'The service is not available right now.' },
  internal: { status: 500, message: 'Something went wrong inside Beep.' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** An error the transports know how to answer; anything else becomes `internal`. */
export class BeepError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details?: Record<string, unknown>;
  /** Seconds, for 429 answers. */
  readonly retryAfter?: number;
  /** ntfy's own error code when it has a specific one (40002, 40004, ...); else status * 100. */
  readonly ntfyCode?: number;

  constructor(code: ErrorCode, message?: string, extra: { details?: Record<string, unknown>; retryAfter?: number; ntfyCode?: number } = {}) {
    super(message ?? ERRORS[code].message);
    this.name = 'BeepError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.details = extra.details;
    this.retryAfter = extra.retryAfter;
    this.ntfyCode = extra.ntfyCode;
  }
}

/** The body PROTOCOL.md prescribes for a non-2xx answer. */
export function errorBody(error: BeepError): { error: { code: ErrorCode; message: string; details?: Record<string, unknown> } } {
  return { error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) } };
}
