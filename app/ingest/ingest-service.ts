import crypto from 'node:crypto';
import { BeepError } from '../domain/errors';
import type { NotificationInput, NotificationSource, StoredNotification } from '../domain/notification';
import { parseNotification } from './notification-schema';

// The one door into the outbox for every source: validate, name, store (group commit), and
// hand the committed notification to delivery.

/** What ingest needs from storage; store/ implements it. */
export interface Outbox {
  append(
    input: NotificationInput,
    id: string,
    afterCommit: (outcome: { notification: StoredNotification; duplicate: boolean }) => void,
  ): Promise<{ notification: StoredNotification; duplicate: boolean }>;
}

/** Told of each newly accepted notification, synchronously after its commit, in seq order. */
export type AcceptedListener = (notification: StoredNotification) => void;

export interface IngestEvents {
  onIngested?: (source: NotificationSource) => void;
  onRejected?: (code: string) => void;
  onAccepted?: (notification: StoredNotification) => void;
}

/** Error-like shape of a store failure (CommitError) without importing the store. */
function isCommitFailure(error: unknown): boolean {
  return (error as Error)?.name === 'CommitError';
}

export interface IngestResult {
  notification: StoredNotification;
  duplicate: boolean;
}

/**
 * Accepts notifications from any source.
 *
 *   const { notification, duplicate } = await ingest.submit(req.body, 'http');
 */
export class IngestService {
  constructor(
    private readonly outbox: Outbox,
    private readonly deliver: AcceptedListener,
    private readonly events: IngestEvents = {},
  ) {}

  /** Validates a raw client body, then accepts it. */
  async submit(raw: unknown, source: NotificationSource): Promise<IngestResult> {
    this.events.onIngested?.(source);
    let input: NotificationInput;
    try {
      input = parseNotification(raw, source);
    } catch (error) {
      if (error instanceof BeepError) this.events.onRejected?.(error.code);
      throw error;
    }
    return this.accept(input);
  }

  /** Stores an already-validated notification; resolves only after its commit. */
  async accept(input: NotificationInput): Promise<IngestResult> {
    const id = input.id ?? crypto.randomBytes(12).toString('base64url');
    try {
      return await this.outbox.append(input, id, ({ notification, duplicate }) => {
        if (duplicate) return;
        this.events.onAccepted?.(notification);
        this.deliver(notification);
      });
    } catch (error) {
      if (isCommitFailure(error)) {
        this.events.onRejected?.('not_accepted');
        throw new BeepError('not_accepted');
      }
      throw error;
    }
  }
}
