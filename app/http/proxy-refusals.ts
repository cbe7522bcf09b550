import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { ProxyRefusal } from './proxy-front';

// What a refused PROXY-front connection leaves behind: each one counted, and one warning per
// address per window, so a misconfigured balancer or a prober is visible without flooding the log.

/** Addresses remembered before the oldest are forgotten (a scan must not grow memory). */
const MAX_TRACKED = 10_000;

/** The `onRefused` of the PROXY front: the metric, and a log line once per address per window. */
export function proxyRefusals(metrics: Metrics, log: Logger, windowMs: number, now: () => number = Date.now): (reason: ProxyRefusal, peer: string, detail: string) => void {
  const lastLogged = new Map<string, number>();
  return (reason, peer, detail) => {
    metrics.proxyRefused.inc({ reason });
    const at = now();
    const last = lastLogged.get(peer);
    if (last !== undefined && at - last < windowMs) return;
    lastLogged.delete(peer);
    if (lastLogged.size >= MAX_TRACKED) lastLogged.delete(lastLogged.keys().next().value!);
    lastLogged.set(peer, at);
    log.warn('gateway connection refused by the PROXY protocol front', { reason, peer, detail, quietForMs: windowMs });
  };
}
