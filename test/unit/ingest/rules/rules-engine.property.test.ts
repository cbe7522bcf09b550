import fc from 'fast-check';
import type { Priority } from '../../../../app/domain/priority';
import { RulesEngine, type RuleSubject } from '../../../../app/ingest/rules/rules-engine';
import { openRules, type Rules } from '../../../../app/ingest/rules/rules';

// Invariants of the rules engine over random streams of notifications and random rules.

type N = RuleSubject & { n: number };

const appArb = fc.constantFrom('mail', 'chat', 'Slack', 'backup', 'org.gnome.Evolution');
const noteArb = fc.record({
  app: appArb,
  title: fc.constantFrom('hi', 'code 123456', 'build failed', 'same'),
  body: fc.constantFrom('', 'your code is 987654', 'x'),
  priority: fc.integer({ min: 1, max: 5 }).map((p) => p as Priority),
  gapMs: fc.integer({ min: 0, max: 3_000 }),
});
const rulesArb: fc.Arbitrary<Rules> = fc.record({
  deny: fc.subarray(['mail', 'ch*', 'SLACK', 'org.gnome.*']),
  minPriority: fc.integer({ min: 1, max: 5 }).map((p) => p as Priority),
  dupSec: fc.constantFrom(0, 1, 5),
  threshold: fc.constantFrom(0, 1, 3),
  burstSec: fc.constantFrom(1, 4),
  redact: fc.boolean(),
}).map((r) => ({
  ...openRules(),
  apps: { allow: [], deny: r.deny },
  minPriority: r.minPriority,
  duplicates: { windowSec: r.dupSec },
  burst: { threshold: r.threshold, windowSec: r.burstSec },
  keywords: r.redact ? [{ pattern: '\\b\\d{6}\\b', flags: '', action: 'redact' as const, apps: [], replacement: '••••••' }] : [],
}));

type Note = { app: string; title: string; body: string; priority: Priority; gapMs: number };

function run(rules: Rules, notes: Note[]) {
  let now = 0;
  const engine = new RulesEngine<N>(rules, () => now);
  const out = notes.map((x, n) => {
    now += x.gapMs;
    const subject: N = { n, app: x.app, title: x.title, body: x.body, priority: x.priority, source: 'http' };
    return { at: now, subject, decision: engine.decide(subject) };
  });
  now += 3_600_000;
  return { out, summaries: engine.dueSummaries(), pendingAfter: engine.nextDueAt() };
}

describe('rules engine invariants', () => {
  test('every notification is delivered, muted or folded exactly once, and summaries account for every fold', () => {
    fc.assert(
      fc.property(rulesArb, fc.array(noteArb, { maxLength: 60 }), (rules, notes) => {
        const { out, summaries, pendingAfter } = run(rules, notes);
        const folded = out.filter((o) => o.decision.action === 'mute' && o.decision.kind === 'burst').length;
        expect(summaries.reduce((sum, s) => sum + s.count, 0)).toBe(folded);
        expect(pendingAfter).toBeNull();
        for (const s of summaries) expect(s.titles.length).toBeGreaterThan(0);
      }),
    );
  });

  test('denied apps and low priorities never get through; redacted text never shows a code', () => {
    fc.assert(
      fc.property(rulesArb, fc.array(noteArb, { maxLength: 60 }), (rules, notes) => {
        for (const { subject, decision } of run(rules, notes).out) {
          if (decision.action !== 'deliver') continue;
          const denied = rules.apps.deny.some((g) => new RegExp(`^${g.replace('.', '\\.').replace('*', '.*')}$`, 'i').test(subject.app));
          expect(denied).toBe(false);
          expect(subject.priority).toBeGreaterThanOrEqual(rules.minPriority);
          if (rules.keywords.length) expect(`${decision.notification.title} ${decision.notification.body}`).not.toMatch(/\b\d{6}\b/);
        }
      }),
    );
  });

  test('no two deliveries of the same app, title and body fall within the duplicate window', () => {
    fc.assert(
      fc.property(rulesArb, fc.array(noteArb, { maxLength: 60 }), (rules, notes) => {
        const windowMs = rules.duplicates.windowSec * 1000;
        const last = new Map<string, number>();
        for (const { at, subject, decision } of run(rules, notes).out) {
          if (decision.action !== 'deliver') continue;
          const key = `${subject.app}|${subject.title}|${subject.body}`;
          if (windowMs > 0 && last.has(key)) expect(at - last.get(key)!).toBeGreaterThanOrEqual(windowMs);
          last.set(key, at);
        }
      }),
    );
  });

  test('within any burst window an app delivers at most `threshold` notifications one by one', () => {
    fc.assert(
      fc.property(rulesArb, fc.array(noteArb, { maxLength: 80 }), (rules, notes) => {
        const { threshold, windowSec } = rules.burst;
        fc.pre(threshold > 0);
        const delivered = new Map<string, number[]>();
        for (const { at, subject, decision } of run(rules, notes).out) {
          if (decision.action !== 'deliver') continue;
          const times = delivered.get(subject.app) ?? [];
          times.push(at);
          delivered.set(subject.app, times);
          expect(times.filter((t) => t > at - windowSec * 1000).length).toBeLessThanOrEqual(threshold);
        }
      }),
    );
  });
});
