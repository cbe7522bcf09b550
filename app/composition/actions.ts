import type { LogFor } from './observability';
import type { BeepConfig } from '../config/schema';
import { HTTP_ACTION_RESULT_CHARS, HTTP_ACTIONS_IN_FLIGHT_PER_DEVICE } from '../config/defaults';
import { ActionService, type ActionLookup } from '../compat/ntfy/action-service';
import { HttpActionRunner } from '../compat/ntfy/http-action';
import type { AuditLog } from '../observability/audit-log';

// Builds what performs ntfy http action buttons for phones (socket event `action`): the runner
// under the user's allow-list, timeout and cap (config compat.ntfy), audited, and logged with
// host, method and status only (an action's headers and body may hold a credential).

export function buildActions(
  config: BeepConfig,
  parts: { lookup: ActionLookup; dismiss: (id: string, byDevice: string) => Promise<boolean>; audit: AuditLog },
  log: LogFor,
): ActionService {
  const { ntfy } = config.compat;
  const runner = new HttpActionRunner({
    hosts: ntfy.httpActionHosts,
    timeoutMs: ntfy.httpActionTimeoutMs,
    maxResponseBytes: ntfy.httpActionMaxResponseBytes,
    resultChars: HTTP_ACTION_RESULT_CHARS,
  });
  const logger = log('actions');
  return new ActionService({
    lookup: parts.lookup,
    runner,
    dismiss: parts.dismiss,
    maxInFlight: HTTP_ACTIONS_IN_FLIGHT_PER_DEVICE,
    audit: (event, deviceId, details) => {
      logger.info(event === 'http_action' ? 'http action performed' : 'http action refused', { deviceId, ...details });
      void parts.audit.record(event, `device:${deviceId}`, details);
    },
  });
}
