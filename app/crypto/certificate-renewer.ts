import type { TlsMaterial } from './certificates';

// Keeps the gateway's server certificate fresh while the daemon runs: a daily check that
// reissues it 30 days before expiry, a frequent cheap look at the machine's addresses that
// reissues at once when they change, and a forced renewal for `beep cert renew`. The new
// material is handed to `apply` (the gateway's setSecureContext), so no restart is needed.

/** What the renewer does with the world; daemon.ts passes the real ones, tests fakes. */
export interface RenewerDeps {
  /** loadOrCreateCertificates with the current names; `force` issues even if still good. */
  load: (force: boolean) => Promise<TlsMaterial & { issued: boolean }>;
  /** Swaps the material into the running server. */
  apply: (tls: TlsMaterial) => void;
  /** The machine's current addresses (any stable rendering; compared as a sorted set). */
  addresses: () => string[];
  setInterval: (fn: () => void, ms: number) => { unref?: () => void };
  clearInterval: (handle: unknown) => void;
  onRenewed?: (tls: TlsMaterial, reason: RenewReason) => void;
  onError?: (error: unknown) => void;
}

export type RenewReason = 'expiry' | 'addresses' | 'forced';

export interface RenewerOptions {
  /** ms between full checks (expiry). */
  checkEveryMs: number;
  /** ms between looks at the interface addresses. */
  addressPollMs: number;
}

/**
 * Starts from the material the daemon loaded at start.
 *
 *   const renewer = new CertificateRenewer(tls, deps, { checkEveryMs: DAY_MS, addressPollMs: 60_000 });
 *   renewer.start(); … await renewer.check('forced'); … renewer.stop();
 */
export class CertificateRenewer {
  private timers: unknown[] = [];
  private lastAddresses: string;
  private running: Promise<TlsMaterial> | undefined;

  constructor(
    private material: TlsMaterial,
    private readonly deps: RenewerDeps,
    private readonly options: RenewerOptions,
  ) {
    this.lastAddresses = this.addressKey();
  }

  /** The material currently served. */
  get current(): TlsMaterial {
    return this.material;
  }

  start(): void {
    const daily = this.deps.setInterval(() => void this.check('expiry').catch(this.report), this.options.checkEveryMs);
    const poll = this.deps.setInterval(() => this.pollAddresses(), this.options.addressPollMs);
    daily.unref?.();
    poll.unref?.();
    this.timers = [daily, poll];
  }

  stop(): void {
    for (const t of this.timers) this.deps.clearInterval(t);
    this.timers = [];
  }

  /** Reissues when due (or always, when forced); concurrent calls share one run. */
  check(reason: RenewReason): Promise<TlsMaterial> {
    if (this.running) return this.running;
    this.running = (async () => {
      try {
        const next = await this.deps.load(reason === 'forced');
        if (next.issued || next.certPem !== this.material.certPem) {
          const { issued: _issued, ...material } = next;
          this.deps.apply(material);
          this.material = material;
          this.deps.onRenewed?.(material, reason);
        }
        return this.material;
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private pollAddresses(): void {
    const key = this.addressKey();
    if (key === this.lastAddresses) return;
    this.lastAddresses = key;
    void this.check('addresses').catch(this.report);
  }

  private addressKey(): string {
    return [...new Set(this.deps.addresses())].sort().join(',');
  }

  private readonly report = (error: unknown): void => this.deps.onError?.(error);
}
