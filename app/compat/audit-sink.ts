import type { Logger } from '../observability/logger';

// Every use of an API token is audited. The hash-chained audit log is being built on another
// branch; until it is wired in at merge, LogAuditSink writes one structured log line per event.

/** Where compat security events go (token created, used, refused, revoked). */
export interface AuditSink {
  record(event: string, fields: Record<string, unknown>): void;
}

/** Interim sink: a log line tagged `audit: true` (swap for the hash-chained log at merge). */
export class LogAuditSink implements AuditSink {
  constructor(private readonly logger: Logger) {}

  record(event: string, fields: Record<string, unknown>): void {
    this.logger.info(event, { audit: true, ...fields });
  }
}
