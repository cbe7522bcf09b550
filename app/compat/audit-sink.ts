// Every use of an API token is audited. daemon.ts adapts the hash-chained AuditLog
// (observability/audit-log.ts) to this interface.

/** The compat security events (token created, used, refused, missing, revoked; Gotify password logins). */
export type CompatAuditEvent =
  | 'api_token_created' | 'api_token_renamed' | 'api_token_revoked' | 'api_token_missing' | 'api_token_refused' | 'api_token_used'
  | 'gotify_login' | 'gotify_login_refused';

/**
 * Where compat security events go; fields carry ids, addresses and reasons, never secrets.
 * `actor` names who acted (`admin`, `token:<id>`); without it, the token the event is about
 * (`fields.tokenId`) or else the address acted.
 */
export interface AuditSink {
  record(event: CompatAuditEvent, fields: Record<string, unknown>, actor?: string): void;
}
