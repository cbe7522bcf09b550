import { storedFrom, type NotificationInput } from '../../../app/domain/notification';

// storedFrom lists the fields it keeps one by one (a rest spread cost every post ~8 µs), so a
// field added to NotificationInput must be added there too: `Required<>` makes this input name
// every field (tsc fails the suite otherwise), and the test fails if one is not carried.

const full: Required<NotificationInput> = {
  id: 'given-id',
  title: 'Build done',
  body: 'main is green',
  app: 'ci',
  priority: 4,
  tags: ['ci'],
  url: 'https://ci.example/1',
  topic: 'builds',
  source: 'ntfy',
  replaces: 'older-id',
  icon: 'dialog-information',
  desktopEntry: 'org.example.Ci',
  markdown: true,
  untitled: true,
  tokenId: 7,
  deliverAt: 1_800_000_000_000,
  uncached: true,
  owedTo: ['device-a'],
  givenPriority: 8,
  actions: [{ id: 'a1', action: 'view', label: 'Open', url: 'https://ci.example/1', clear: false }],
  attachment: { name: 'log.txt', url: 'https://ci.example/log.txt' },
};

/** Never stored on the row: rules match on the .desktop id; the due time lives in its own table. */
const NOT_STORED = ['desktopEntry', 'deliverAt'];

describe('storedFrom', () => {
  test('carries every input field but the two that are never stored, and adds id, seq and times', () => {
    const stored = storedFrom(full, 'beep-id', 42, '2026-11-30T12:00:00.000Z');
    for (const [key, value] of Object.entries(full)) {
      if (NOT_STORED.includes(key)) expect(stored).not.toHaveProperty(key);
      else if (key !== 'id') expect(stored).toHaveProperty(key, value);
    }
    expect(stored).toMatchObject({ id: 'beep-id', seq: 42, createdAt: '2026-11-30T12:00:00.000Z', dismissedAt: null });
  });

  test('fills the defaults and leaves absent optional fields absent', () => {
    const stored = storedFrom(
      { title: 't', body: 'b', app: 'a', priority: 3, tags: [], url: null, topic: null, source: 'http' },
      'beep-id',
      1,
      '2026-11-30T12:00:00.000Z',
    );
    expect(stored).toStrictEqual({
      title: 't',
      body: 'b',
      app: 'a',
      priority: 3,
      tags: [],
      url: null,
      topic: null,
      source: 'http',
      replaces: null,
      icon: null,
      markdown: false,
      untitled: false,
      tokenId: null,
      id: 'beep-id',
      seq: 1,
      createdAt: '2026-11-30T12:00:00.000Z',
      dismissedAt: null,
    });
  });
});
