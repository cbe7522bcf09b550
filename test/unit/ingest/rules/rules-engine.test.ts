import type { NotificationInput } from '../../../../app/domain/notification';
import type { Priority } from '../../../../app/domain/priority';
import { IngestService, type Outbox } from '../../../../app/ingest/ingest-service';
import { RulesEngine } from '../../../../app/ingest/rules/rules-engine';
import { openRules, type Rules } from '../../../../app/ingest/rules/rules';
import { ManualTimers } from '../../queue/manual-timers';

// Duplicate suppression, burst folding (through IngestService, with its summary timer), quiet
// hours with urgent passing, keyword mute/redact, allow/deny on desktop entries.

function note(title: string, extra: Partial<NotificationInput> = {}): NotificationInput {
  return { title, body: '', app: 'chat', priority: 3, tags: [], url: null, topic: null, source: 'dbus', ...extra };
}

function rules(extra: Partial<Rules>): Rules {
  return { ...openRules(), ...extra };
}

describe('duplicate suppression', () => {
  test('the same app, title and body within the window collapse; after it, or with a different body, they pass', () => {
    let now = 0;
    const engine = new RulesEngine<NotificationInput>(rules({ duplicates: { windowSec: 60 } }), () => now);
    expect(engine.decide(note('Build failed')).action).toBe('deliver');
    now = 30_000;
    expect(engine.decide(note('Build failed'))).toEqual({ action: 'mute', kind: 'duplicate' });
    expect(engine.decide(note('Build failed', { body: 'again' })).action).toBe('deliver');
    expect(engine.decide(note('Build failed', { app: 'ci' })).action).toBe('deliver');
    now = 60_000; // measured from the delivered one, not from the muted repeat
    expect(engine.decide(note('Build failed')).action).toBe('deliver');
    // An update of an earlier notification is never swallowed.
    expect(engine.decide(note('Build failed', { replaces: 'abc' })).action).toBe('deliver');
  });
});

describe('burst folding', () => {
  function harness(threshold: number, windowSec: number) {
    const timers = new ManualTimers(1_000_000);
    const stored: NotificationInput[] = [];
    const outbox: Outbox = {
      has: async () => false,
      append: async (input, id, afterCommit) => {
        stored.push(input);
        const notification = { ...input, id, seq: stored.length, createdAt: '', dismissedAt: null, replaces: null, icon: null };
        afterCommit({ notification, duplicate: false });
        return { notification, duplicate: false };
      },
    };
    const muted: string[] = [];
    const engine = new RulesEngine<NotificationInput>(rules({ burst: { threshold, windowSec } }), () => timers.now());
    const ingest = new IngestService(outbox, () => undefined, { onMuted: (k) => muted.push(k) }, { engine, timers });
    return { timers, stored, muted, ingest };
  }

  test('a storm of 50 from one app becomes 3 notifications and one summary', async () => {
    const { timers, stored, muted, ingest } = harness(3, 10);
    for (let i = 1; i <= 50; i++) {
      await ingest.accept(note(`message ${i}`, { priority: i === 40 ? 5 : 3 }));
      timers.advance(20);
    }
    await ingest.accept(note('from another app', { app: 'mail' }));
    expect(stored.map((n) => n.title)).toEqual(['message 1', 'message 2', 'message 3', 'from another app']);
    expect(muted).toHaveLength(47);
    timers.advance(10_000);
    await Promise.resolve();
    expect(stored).toHaveLength(5);
    expect(stored[4]).toMatchObject({
      title: '47 more notifications from chat',
      body: 'message 48\nmessage 49\nmessage 50',
      app: 'chat',
      priority: 5, // the most urgent folded one
      tags: ['burst'],
      source: 'dbus',
    });
    // Quiet again: nothing more is due, and the next one after the window passes on its own.
    timers.advance(60_000);
    await ingest.accept(note('calm'));
    expect(stored.map((n) => n.title).slice(-1)).toEqual(['calm']);
    ingest.close();
  });

  test('a storm that goes on yields one summary per window, not one per notification', async () => {
    const { timers, stored, ingest } = harness(2, 1);
    for (let i = 0; i < 100; i++) {
      await ingest.accept(note(`tick ${i}`));
      timers.advance(50); // 5 s of storm, 20 per second
    }
    timers.advance(2_000);
    await Promise.resolve();
    const summaries = stored.filter((n) => n.tags.includes('burst'));
    expect(stored.length - summaries.length).toBe(2);
    expect(summaries.length).toBeGreaterThanOrEqual(4);
    expect(summaries.length).toBeLessThanOrEqual(6);
    const folded = summaries.reduce((sum, n) => sum + Number(n.title.split(' ')[0]), 0);
    expect(folded).toBe(98);
    ingest.close();
  });
});

describe('other rules', () => {
  test('quiet hours mute all but urgent', () => {
    const engine = new RulesEngine<NotificationInput>(
      rules({ quietHours: { timeZone: 'Europe/Paris', allowUrgent: true, windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '22:00', end: '07:00' }] } }),
      () => Date.parse('2026-01-15T23:30:00Z'), // 00:30 in Paris
    );
    expect(engine.decide(note('late'))).toEqual({ action: 'mute', kind: 'quiet_hours' });
    expect(engine.decide(note('server down', { priority: 5 as Priority })).action).toBe('deliver');
  });

  test('keywords mute or redact; allow lists match the desktop entry too', () => {
    const engine = new RulesEngine<NotificationInput>(
      rules({
        apps: { allow: ['org.gnome.*', 'backup'], deny: ['*spam*'] },
        keywords: [
          { pattern: 'unsubscribe', flags: 'i', action: 'mute', apps: [], replacement: '' },
          { pattern: '\\b\\d{6}\\b', flags: '', action: 'redact', apps: ['org.gnome.Evolution'], replacement: '••••••' },
        ],
      }),
      () => 0,
    );
    const mail = { app: 'Mail', desktopEntry: 'org.gnome.Evolution' };
    expect(engine.decide(note('Your code is 123456', mail))).toEqual({
      action: 'deliver',
      notification: expect.objectContaining({ title: 'Your code is ••••••' }),
    });
    expect(engine.decide(note('Deals! Unsubscribe here', mail))).toEqual({ action: 'mute', kind: 'keyword' });
    expect(engine.decide(note('code 123456', { app: 'backup' }))).toEqual({ action: 'deliver', notification: expect.objectContaining({ title: 'code 123456' }) });
    expect(engine.decide(note('hello', { app: 'chat' }))).toEqual({ action: 'mute', kind: 'app' });
    expect(engine.decide(note('hello', { app: 'backup-spam' }))).toEqual({ action: 'mute', kind: 'app' });
    engine.setRules(openRules());
    expect(engine.decide(note('hello', { app: 'chat' })).action).toBe('deliver');
  });
});
