import { parseNotifyBody, stripMarkup, toNotificationInput, truncateBytes } from '../../../app/sources/dbus/notify-mapping';

// Notify arguments as any program on the session bus may send them: bounded, markup stripped.

const call = (over: Partial<Record<string, unknown>> = {}) =>
  parseNotifyBody([over.app ?? 'app', over.replaces ?? 0, over.icon ?? '', over.summary ?? 'Hi', over.body ?? '', [], over.hints ?? {}, -1])!;

describe('Notify mapping', () => {
  test('urgency byte maps to priority 2/3/5; no hint is default', () => {
    const p = (urgency?: number) => toNotificationInput(call({ hints: urgency === undefined ? {} : { urgency: { signature: 'y', value: urgency } } })).priority;
    expect([p(0), p(1), p(2), p(), p(7)]).toEqual([2, 3, 5, 3, 3]);
  });

  test('markup and entities become text; limits hold in bytes without splitting characters', () => {
    expect(stripMarkup('<b>Ann</b> &amp; <a href="x">Bob</a><br/>&#x1F600; &lt;3 &bogus;')).toBe('Ann & Bob\n😀 <3 &bogus;');
    const long = toNotificationInput(call({ summary: '€'.repeat(200), body: 'x'.repeat(10_000), app: 'a'.repeat(100) }));
    expect(Buffer.byteLength(long.title)).toBeLessThanOrEqual(256);
    expect(long.title.endsWith('…')).toBe(true);
    expect(Buffer.byteLength(long.body)).toBeLessThanOrEqual(4096);
    expect(Buffer.byteLength(long.app)).toBeLessThanOrEqual(64);
    expect(truncateBytes('short', 10)).toBe('short');
  });

  test('category, desktop entry and icon are kept; an empty summary falls back to the app', () => {
    const n = toNotificationInput(
      call({
        app: '',
        summary: '  ',
        icon: '',
        hints: {
          category: { signature: 's', value: 'im.received' },
          'desktop-entry': { signature: 's', value: 'org.telegram.desktop' },
          'image-path': { signature: 's', value: 'file:///tmp/a.png' },
        },
      }),
    );
    expect(n).toMatchObject({ title: 'org.telegram.desktop', app: 'org.telegram.desktop', tags: ['im.received'], icon: 'file:///tmp/a.png', desktopEntry: 'org.telegram.desktop', source: 'dbus' });
  });

  test('a call with the wrong shape is ignored', () => {
    expect(parseNotifyBody(['only', 'three', 'args'])).toBeNull();
    expect(parseNotifyBody([1, 0, '', 'x', '', [], {}, -1])).toBeNull();
  });
});
