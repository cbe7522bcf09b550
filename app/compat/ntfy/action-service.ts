import type { NotificationAction } from '../../domain/action';
import { BeepError } from '../../domain/errors';
import type { StoredNotification } from '../../domain/notification';
import type { HttpActionResult } from './http-action';

// A phone's request to have an http action button performed (socket event `action`): the
// notification must be one this device may see (not revoked, its topic filter allows it), the
// action one of its http actions; the daemon performs it (HttpActionRunner), audits the
// attempt (host, method, status: never the headers or body, which may hold a credential) and,
// for `clear=true` and a 2xx answer, dismisses the notification on every device.

/** The notification a device may act on (store/ implements it). */
export interface ActionLookup {
  notificationForDevice(deviceId: string, id: string): Promise<StoredNotification | undefined>;
}

/** What performs the request under the user's policy. */
export interface ActionRunner {
  perform(action: NotificationAction): Promise<HttpActionResult>;
}

/** The security events an action causes (the audit log records them). */
export type ActionAuditEvent = 'http_action' | 'http_action_refused';

export interface ActionServiceDeps {
  lookup: ActionLookup;
  runner: ActionRunner;
  /** Dismisses on every device; resolves false when unknown or already dismissed. */
  dismiss: (id: string, byDevice: string) => Promise<boolean>;
  audit: (event: ActionAuditEvent, deviceId: string, details: Record<string, unknown>) => void;
  /** Requests one device may have in flight; past it the phone is answered rate_limited. */
  maxInFlight: number;
}

/** The answer to the phone (PROTOCOL.md, "Action buttons"). */
export type ActionReply =
  | { ok: true; status: number; body: string; cleared: boolean; truncated?: true }
  | { error: { code: string; message: string } };

const NOT_FOUND = { error: { code: 'not_found', message: 'No such notification or http action for this device.' } };

const BUSY = { error: { code: 'rate_limited', message: 'Too many http actions waiting for an answer; try again when they are done.' } };

export class ActionService {
  /** Requests in flight per device. */
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly deps: ActionServiceDeps) {}

  async perform(deviceId: string, notificationId: string, actionId: string): Promise<ActionReply> {
    const busy = this.inFlight.get(deviceId) ?? 0;
    if (busy >= this.deps.maxInFlight) return BUSY;
    this.inFlight.set(deviceId, busy + 1);
    try {
      return await this.performOne(deviceId, notificationId, actionId);
    } finally {
      const left = (this.inFlight.get(deviceId) ?? 1) - 1;
      if (left > 0) this.inFlight.set(deviceId, left);
      else this.inFlight.delete(deviceId);
    }
  }

  private async performOne(deviceId: string, notificationId: string, actionId: string): Promise<ActionReply> {
    const n = await this.deps.lookup.notificationForDevice(deviceId, notificationId);
    const action = n?.actions?.find((a) => a.id === actionId && a.action === 'http');
    if (!n || !action) return NOT_FOUND;
    const url = new URL(action.url);
    const base = { notificationId: n.id, actionId: action.id, host: url.hostname, method: action.method ?? 'POST' };
    let result: HttpActionResult;
    try {
      result = await this.deps.runner.perform(action);
    } catch (error) {
      if (!(error instanceof BeepError)) throw error;
      this.deps.audit(error.code === 'action_forbidden' ? 'http_action_refused' : 'http_action', deviceId, { ...base, code: error.code });
      return { error: { code: error.code, message: error.message } };
    }
    const success = result.status >= 200 && result.status < 300;
    const cleared = action.clear && success ? await this.deps.dismiss(n.id, deviceId) : false;
    this.deps.audit('http_action', deviceId, { ...base, status: result.status });
    return { ok: true, status: result.status, body: result.body, cleared, ...(result.truncated ? { truncated: true as const } : {}) };
  }
}
