import type { LoadedTls, TlsMaterial } from './certificates';

// Keeps the gateway's server certificate fresh while the daemon runs: a daily check that
// reissues it 30 days before expiry, a frequent cheap look at the machine's addresses that
// reissues at once when they change, and a forced renewal for `beep cert renew`. The new
// material is handed to `apply` (the gateway's setSecureContext), so no restart is needed.
// `beep cert rotate-ca` replaces the CA itself through the same swap, one operation at a time;
// on a cluster node, a CA another node rotated in is followed through it too (followAuthority).

/** What the renewer does with the world; daemon.ts passes the real ones, tests fakes. */
export interface RenewerDeps {
  /** loadOrCreateCertificates with the current names; `force` issues even if still good. */
  load: (force: boolean) => Promise<LoadedTls>;
  /** Replaces the CA and issues a server certificate under it (`beep cert rotate-ca`); `expected` is the CA being replaced (a cluster refuses when it changed meanwhile). */
  rotate?: (expected: string) => Promise<LoadedTls>;
  /** Swaps the material into the running server. */
  apply: (tls: TlsMaterial) => void;
  /** The machine's current addresses (any stable rendering; compared as a sorted set). */
  addresses: () => string[];
  setInterval: (fn: () => void, ms: number) => { unref?: () => void };
  clearInterval: (handle: unknown) => void;
  onRenewed?: (tls: TlsMaterial, reason: RenewReason) => void;
  /** After a new CA is swapped in; previousFingerprint is the CA phones had pinned. */
  onRotated?: (tls: TlsMaterial, previousFingerprint: string) => void;
  /** After a CA another node of the cluster rotated in is swapped in here. */
  onFollowed?: (tls: TlsMaterial, previousFingerprint: string) => void;
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
  private tail: Promise<unknown> = Promise.resolve(); // the last queued operation, so none overlap

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
    const run = this.serialize(async () => {
      const next = await this.deps.load(reason === 'forced');
      if (next.issued || next.certPem !== this.material.certPem) {
        this.swap(next);
        this.deps.onRenewed?.(this.material, reason);
      }
      return this.material;
    });
    this.running = run;
    run.then(
      () => this.settled(run),
      () => this.settled(run),
    );
    return run;
  }

  /** Replaces the CA (after any renewal under way) and swaps the new chain in; `expected`: the CA the caller saw (default: the one served when it runs). */
  rotateAuthority(expected?: string): Promise<TlsMaterial> {
    const rotate = this.deps.rotate;
    if (!rotate) return Promise.reject(new Error('this renewer cannot rotate the CA'));
    return this.serialize(async () => {
      const previousFingerprint = this.material.caFingerprint;
      this.swap(await rotate(expected ?? previousFingerprint));
      this.deps.onRotated?.(this.material, previousFingerprint);
      return this.material;
    });
  }

  /**
   * Cluster mode: swaps in the CA another node rotated in. `adopt` syncs the certificate directory
   * with the cluster's CA and loads under it, or answers null when `served` is still the cluster's.
   */
  followAuthority(adopt: (served: string) => Promise<LoadedTls | null>): Promise<TlsMaterial> {
    return this.serialize(async () => {
      const previousFingerprint = this.material.caFingerprint;
      const next = await adopt(previousFingerprint);
      if (next && next.caFingerprint !== previousFingerprint) {
        this.swap(next);
        this.deps.onFollowed?.(this.material, previousFingerprint);
      }
      return this.material;
    });
  }

  private swap(next: LoadedTls): void {
    const { issued: _issued, ...material } = next;
    this.deps.apply(material);
    this.material = material;
  }

  private settled(run: Promise<TlsMaterial>): void {
    if (this.running === run) this.running = undefined;
  }

  // Runs job after the previous one has finished, whether it succeeded or not.
  private serialize(job: () => Promise<TlsMaterial>): Promise<TlsMaterial> {
    const run = this.tail.then(job);
    this.tail = run.catch(() => undefined);
    return run;
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
