import type { Priority } from '../../domain/priority';
import { URGENT_PRIORITY } from '../../domain/priority';
import { compileKeyword, type KeywordPattern } from './keyword-pattern';
import { inQuietHours, WallClock } from './quiet-hours';
import { globToRegExp, type MuteKind, type Rules } from './rules';

// The rules engine: a pure core (no I/O; the clock is injected) that decides, for each
// notification from any source, whether it is delivered (maybe redacted), muted, or folded
// into a burst summary. IngestService is its shell.

/** What the rules look at. */
export interface RuleSubject {
  app: string;
  desktopEntry?: string | null;
  title: string;
  body: string;
  priority: Priority;
  source: string;
  /** Updates of an earlier notification are never folded or deduplicated away. */
  replaces?: string | null;
}

export type Decision<T> = { action: 'deliver'; notification: T } | { action: 'mute'; kind: MuteKind };

/** One summary standing for the notifications a burst folded. */
export interface BurstSummary<T> {
  count: number;
  /** The latest few titles, newest last. */
  titles: string[];
  priority: Priority;
  /** The last folded notification (for app, source and the like). */
  last: T;
}

interface Compiled {
  allow: RegExp[];
  deny: RegExp[];
  /** On RE2 (linear time): a user's pattern cannot stall the loop. */
  keywords: { pattern: KeywordPattern; action: 'mute' | 'redact'; apps: RegExp[]; replacement: string }[];
  clock: WallClock;
}

interface Storm<T> {
  /** The latest arrivals (at most `threshold`), oldest first. */
  arrivals: number[];
  fold: { count: number; titles: string[]; priority: Priority; firstAt: number; last: T } | null;
}

/** Titles a summary quotes. */
const SUMMARY_TITLES = 3;
/** Storm entries kept before idle ones are swept. */
const SWEEP_ABOVE = 256;

function compile(rules: Rules): Compiled {
  return {
    allow: rules.apps.allow.map(globToRegExp),
    deny: rules.apps.deny.map(globToRegExp),
    keywords: rules.keywords.map((k) => ({
      pattern: compileKeyword(k.pattern, k.flags),
      action: k.action,
      apps: k.apps.map(globToRegExp),
      replacement: k.replacement,
    })),
    clock: new WallClock(rules.quietHours.timeZone),
  };
}

function matchesAny(globs: RegExp[], names: string[]): boolean {
  return globs.some((g) => names.some((n) => g.test(n)));
}

/**
 * Applies the user's rules, keeping the little state duplicates and bursts need.
 *
 *   const engine = new RulesEngine(rules, Date.now);
 *   const d = engine.decide(input);            // { action: 'deliver', notification } | { action: 'mute', kind }
 *   for (const s of engine.dueSummaries()) …   // at engine.nextDueAt()
 */
export class RulesEngine<T extends RuleSubject> {
  private rules!: Rules;
  private compiled!: Compiled;
  /** Fingerprint → when it was last delivered; Map order is delivery order. */
  private readonly recent = new Map<string, number>();
  private readonly storms = new Map<string, Storm<T>>();

  constructor(rules: Rules, private readonly now: () => number) {
    this.setRules(rules);
  }

  /** Swaps the rules in; duplicate and burst memory carries over. */
  setRules(rules: Rules): void {
    this.compiled = compile(rules);
    this.rules = rules;
  }

  decide(n: T): Decision<T> {
    const now = this.now();
    const { rules, compiled } = this;
    const names = [n.app, n.desktopEntry ?? ''].filter((s) => s !== '');
    if (matchesAny(compiled.deny, names)) return { action: 'mute', kind: 'app' };
    if (compiled.allow.length > 0 && !matchesAny(compiled.allow, names)) return { action: 'mute', kind: 'app' };
    if (n.priority < rules.minPriority) return { action: 'mute', kind: 'priority' };
    const keywords = compiled.keywords.filter((k) => k.apps.length === 0 || matchesAny(k.apps, names));
    if (keywords.some((k) => k.action === 'mute' && (k.pattern.test(n.title) || k.pattern.test(n.body)))) {
      return { action: 'mute', kind: 'keyword' };
    }
    const quiet = rules.quietHours;
    if (quiet.windows.length > 0 && !(quiet.allowUrgent && n.priority === URGENT_PRIORITY)) {
      if (inQuietHours(quiet.windows, compiled.clock.at(now))) return { action: 'mute', kind: 'quiet_hours' };
    }
    const fingerprint = JSON.stringify([n.source, n.app, n.title, n.body]);
    if (!n.replaces && this.isDuplicate(fingerprint, now)) return { action: 'mute', kind: 'duplicate' };
    if (!n.replaces && this.folds(n, now)) return { action: 'mute', kind: 'burst' };
    if (rules.duplicates.windowSec > 0) {
      this.recent.delete(fingerprint);
      this.recent.set(fingerprint, now);
    }
    let { title, body } = n;
    for (const k of keywords) {
      if (k.action !== 'redact') continue;
      title = k.pattern.replaceAll(title, k.replacement);
      body = k.pattern.replaceAll(body, k.replacement);
    }
    return { action: 'deliver', notification: title === n.title && body === n.body ? n : { ...n, title, body } };
  }

  /** Summaries whose burst window has ended, oldest first; each is handed out once. */
  dueSummaries(): BurstSummary<T>[] {
    const now = this.now();
    const windowMs = this.rules.burst.windowSec * 1000;
    const due: BurstSummary<T>[] = [];
    for (const storm of this.storms.values()) {
      const fold = storm.fold;
      if (!fold || fold.firstAt + windowMs > now) continue;
      due.push({ count: fold.count, titles: fold.titles, priority: fold.priority, last: fold.last });
      storm.fold = null;
    }
    return due;
  }

  /** When the next summary falls due (epoch ms), or null when none is pending. */
  nextDueAt(): number | null {
    let next: number | null = null;
    for (const { fold } of this.storms.values()) {
      if (fold) next = Math.min(next ?? Infinity, fold.firstAt + this.rules.burst.windowSec * 1000);
    }
    return next;
  }

  private isDuplicate(fingerprint: string, now: number): boolean {
    const windowMs = this.rules.duplicates.windowSec * 1000;
    for (const [key, at] of this.recent) {
      if (at > now - windowMs) break;
      this.recent.delete(key);
    }
    return windowMs > 0 && this.recent.has(fingerprint);
  }

  private folds(n: T, now: number): boolean {
    const { threshold, windowSec } = this.rules.burst;
    if (threshold <= 0) return false;
    const windowMs = windowSec * 1000;
    if (this.storms.size > SWEEP_ABOVE) this.sweep(now, windowMs);
    const key = JSON.stringify([n.source, n.app]);
    let storm = this.storms.get(key);
    if (!storm) this.storms.set(key, (storm = { arrivals: [], fold: null }));
    const arrivals = storm.arrivals;
    const storming = arrivals.length >= threshold && arrivals[arrivals.length - threshold] > now - windowMs;
    arrivals.push(now);
    while (arrivals.length > threshold) arrivals.shift();
    if (!storming) return false;
    const fold = (storm.fold ??= { count: 0, titles: [], priority: n.priority, firstAt: now, last: n });
    fold.count += 1;
    fold.titles = [...fold.titles, n.title].slice(-SUMMARY_TITLES);
    fold.priority = Math.max(fold.priority, n.priority) as Priority;
    fold.last = n;
    return true;
  }

  private sweep(now: number, windowMs: number): void {
    for (const [key, storm] of this.storms) {
      const latest = storm.arrivals[storm.arrivals.length - 1] ?? 0;
      if (!storm.fold && latest <= now - windowMs) this.storms.delete(key);
    }
  }
}
