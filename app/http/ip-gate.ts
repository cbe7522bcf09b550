import type { RateDecision, RateLimiter, ViolationBlocker } from '../auth/rate-limiter';
import { BeepError } from '../domain/errors';

// The per-IP gate of a listener, the same for HTTP requests, WebSocket upgrades (ntfy, Gotify)
// and socket.io handshakes: a blocked address is refused, every admission spends one point of
// a budget, and one violation accounting decides blocks: an answer of 429 (from any limit,
// this gate's or a route's) extends the address's streak of refusals, any other answer ends
// it, and an answer to an already blocked address changes nothing.

/** What a refusal records (metrics, audit). */
export interface GateHooks {
  /** A request was refused; scope names the budget. */
  onLimited?: (scope: string, address: string) => void;
  /** An address just got blocked for too many refusals in a row. */
  onBlocked?: (address: string) => void;
}

/** The outcome of one admission: the budget's decision (for RateLimit-* headers) or the refusal. */
export interface Admission {
  decision?: RateDecision;
  refusal?: BeepError;
}

/**
 *   const gate = new IpGate(blocker, hooks);
 *   const { refusal, decision } = await gate.admit(ip, perIp, 'gateway_ip');
 *   … answer …; gate.settle(ip, status, refusal);
 */
export class IpGate {
  constructor(
    private readonly blocker: ViolationBlocker,
    private readonly hooks: GateHooks = {},
  ) {}

  /** Refuses a blocked address, else spends a point of `budget` (scope names it in metrics). */
  async admit(address: string, budget: RateLimiter, scope: string): Promise<Admission> {
    const blockedFor = await this.blocker.blockedFor(address);
    if (blockedFor > 0) {
      this.hooks.onLimited?.('blocked', address);
      return { refusal: new BeepError('ip_blocked', undefined, { retryAfter: blockedFor }) };
    }
    const decision = await budget.consume(address);
    if (decision.allowed) return { decision };
    this.hooks.onLimited?.(scope, address);
    return { decision, refusal: new BeepError('rate_limited', undefined, { retryAfter: decision.resetSec }) };
  }

  /** Settles the streak with the status the client finally got (101 for an accepted upgrade). */
  settle(address: string, status: number, refusal?: BeepError): void {
    if (refusal?.code === 'ip_blocked') return;
    if (status !== 429) return void this.blocker.success(address).catch(() => undefined);
    this.blocker.violation(address).then(
      (blocked) => blocked && this.hooks.onBlocked?.(address),
      () => undefined,
    );
  }
}
