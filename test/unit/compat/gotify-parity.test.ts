import fc from 'fast-check';
import { applicationTopic } from '../../../app/compat/gotify/gotify-applications';
import { toGotifyMessage } from '../../../app/compat/gotify/gotify-message';
import { fromGotify } from '../../../app/compat/gotify/gotify-publish';
import { isTopicName } from '../../../app/compat/topics';
import type { StoredNotification } from '../../../app/domain/notification';

// The pure parts of issue 13's Gotify work: the priority given is kept beside Beep's level,
// an application's default priority, and each application's own topic.

const APP = { tokenId: 4, name: 'ci', topic: 'ci-4', defaultPriority: null };

test('the priority given is kept as given; Beep\'s level follows the bands', () => {
  const cases: [unknown, number, number][] = [[7, 7, 3], ['7', 7, 3], [-3, -3, 1], [0, 0, 1], [11, 11, 5], ['+9', 9, 4], [2 ** 40, 2 ** 40, 5]];
  for (const [given, kept, level] of cases) {
    const input = fromGotify({ message: 'm', priority: given }, APP);
    expect([input.givenPriority, input.priority]).toEqual([kept, level]);
  }
  const none = fromGotify({ message: 'm' }, APP);
  expect(none.priority).toBe(3);
  expect('givenPriority' in none).toBe(false);
  for (const bad of [7.5, '7x', 2 ** 53, '12345678901234567', true]) expect(() => fromGotify({ message: 'm', priority: bad }, APP)).toThrow(/priority/);
});

test('an application\'s default priority applies when a message gives none', () => {
  const app = { ...APP, defaultPriority: 8 };
  expect(fromGotify({ message: 'm' }, app)).toMatchObject({ givenPriority: 8, priority: 4 });
  expect(fromGotify({ message: 'm', priority: 1 }, app)).toMatchObject({ givenPriority: 1, priority: 2 });
});

test('Gotify sees the priority given, else Beep\'s level mapped back', () => {
  const stored = { seq: 9, tokenId: 4, body: 'b', title: 't', priority: 3, createdAt: 'now', url: null, markdown: false } as unknown as StoredNotification;
  expect(toGotifyMessage({ ...stored, givenPriority: 7 }).priority).toBe(7);
  expect(toGotifyMessage(stored).priority).toBe(5);
});

test('every application gets a valid topic of its own, whatever its name', () => {
  expect(applicationTopic('CI server', 12)).toBe('ci-server-12');
  expect(applicationTopic('Ünïcode ☃', 3)).toBe('n-code-3');
  expect(applicationTopic('☃☃', 3)).toBe('app-3');
  expect(applicationTopic('message', 1)).toBe('message-1');
  fc.assert(
    fc.property(fc.string({ maxLength: 64 }), fc.string({ maxLength: 64 }), fc.integer({ min: 1, max: 2 ** 40 }), fc.integer({ min: 1, max: 2 ** 40 }), (a, b, i, j) => {
      const ta = applicationTopic(a, i);
      expect(isTopicName(ta)).toBe(true);
      if (i !== j) expect(ta).not.toBe(applicationTopic(b, j));
    }),
  );
});
