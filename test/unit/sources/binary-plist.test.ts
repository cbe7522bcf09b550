import fc from 'fast-check';
import { parseBinaryPlist } from '../../../app/sources/macos/binary-plist';
import { recordToInput } from '../../../app/sources/macos/notification-record';
import { buildBinaryPlist } from '../../helpers/bplist';

// The bplist reader against plists the tests write in Apple's format, and hostile input.

type V = null | boolean | number | string | Buffer | V[] | { [k: string]: V };
const leaf: fc.Arbitrary<V> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
);
const valueArb: fc.Arbitrary<V> = fc.letrec<{ v: V }>((tie) => ({
  v: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.array(tie('v'), { maxLength: 20 }), fc.dictionary(fc.string({ maxLength: 10 }), tie('v'), { maxKeys: 20 })),
})).v;

function plain(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return { bytes: value.toString('hex') };
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

describe('binary plist reader', () => {
  test('reads back whatever the writer encodes', () => {
    fc.assert(fc.property(valueArb, (value) => expect(plain(parseBinaryPlist(buildBinaryPlist(value)))).toEqual(plain(value))));
  });

  test('dates count from 2001-01-01', () => {
    const at = new Date('2026-02-03T04:05:06.000Z');
    expect(parseBinaryPlist(buildBinaryPlist({ date: at }))).toEqual({ date: at });
  });

  test('truncated or corrupted input is refused with an error, never a crash or a hang', () => {
    const good = buildBinaryPlist({ app: 'com.apple.Mail', req: { titl: 'x', body: 'y' } });
    fc.assert(
      fc.property(fc.nat({ max: good.length - 1 }), fc.nat({ max: 255 }), fc.nat({ max: good.length }), (at, byte, cut) => {
        const bad = Buffer.from(good);
        bad[at] = byte;
        for (const input of [bad, bad.subarray(0, cut)]) {
          try {
            parseBinaryPlist(input);
          } catch (error) {
            expect((error as Error).message).toMatch(/^binary plist: |out of range|outside buffer|Invalid/);
          }
        }
      }),
    );
    expect(() => parseBinaryPlist(Buffer.from('not a plist at all, not at all, no no no'))).toThrow('not a bplist00');
  });

  test('a record becomes a notification: title, subtitle before the body, app from the plist', () => {
    const data = buildBinaryPlist({ app: 'com.apple.MobileSMS', req: { titl: 'Ann', subt: 'Dinner', body: 'At 8? 🍝' } });
    expect(recordToInput(data, 'com.apple.MobileSMS')).toMatchObject({
      title: 'Ann',
      body: 'Dinner\nAt 8? 🍝',
      app: 'com.apple.MobileSMS',
      priority: 3,
      source: 'macos',
    });
    expect(recordToInput(buildBinaryPlist({ app: 'x', req: {} }), null)).toBeNull();
    expect(recordToInput(buildBinaryPlist({ req: { body: 'only a body' } }), 'com.example.App')).toMatchObject({ title: 'com.example.App', body: 'only a body' });
  });
});

test('a plist whose objects refer to each other over and over is refused, not expanded', () => {
  // Object 0: an array of 14 references to object 0 itself (a cycle, fanning out 14-fold).
  const objects = Buffer.from([0xae, ...new Array(14).fill(0)]);
  const trailer = Buffer.alloc(32);
  trailer[6] = 1;
  trailer[7] = 1;
  trailer.writeBigUInt64BE(1n, 8);
  trailer.writeBigUInt64BE(BigInt(8 + objects.length), 24);
  const plist = Buffer.concat([Buffer.from('bplist00'), objects, Buffer.from([8]), trailer]);
  expect(() => parseBinaryPlist(plist)).toThrow(/too many objects|nested too deep/);
});
