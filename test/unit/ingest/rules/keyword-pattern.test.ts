import fc from 'fast-check';
import { compileKeyword, patternProblem } from '../../../../app/ingest/rules/keyword-pattern';

// Keyword patterns run on RE2: linear time on catastrophic patterns, the same answers as
// JavaScript's RegExp on what both engines express, and a clear refusal for what RE2 cannot.

test('a catastrophic pattern on a long input: linear time (answers at all)', () => {
  const p = compileKeyword('(a+)+$', '');
  const input = `${'a'.repeat(20_000)}!`;
  expect(p.test(input)).toBe(false); // a backtracking engine would not come back from this
  expect(compileKeyword('(x+x+)+y', '').replaceAll(`${'x'.repeat(5_000)}`, '#')).toBe('x'.repeat(5_000));
});

test('flags and JavaScript replacement syntax', () => {
  expect(compileKeyword('secret', 'i').test('SECRET')).toBe(true);
  expect(compileKeyword('secret', '').test('SECRET')).toBe(false);
  expect(compileKeyword('^b', 'm').test('a\nb')).toBe(true);
  expect(compileKeyword('a.b', 's').test('a\nb')).toBe(true);
  expect(compileKeyword('a.b', '').test('a\nb')).toBe(false);
  expect(compileKeyword('(\\d{3})-(\\d{4})', '').replaceAll('call 555-1234 or 555-9876', '$1-••••')).toBe('call 555-•••• or 555-••••');
  expect(compileKeyword('(?<pin>\\d{4})', '').replaceAll('pin 1234', '[$<pin>] $& $$')).toBe('pin [1234] 1234 $');
  expect(compileKeyword('caf\\u00e9', 'i').test('CAFÉ au lait')).toBe(true);
});

test('what RE2 cannot run is named in the problem', () => {
  expect(patternProblem('\\b\\d{6}\\b')).toBeNull();
  expect(patternProblem('(a)\\1')).toMatch(/backreferences.*RE2 says: invalid escape/);
  expect(patternProblem('(?=x)')).toMatch(/lookaround/);
  expect(patternProblem('(?<!x)y')).toMatch(/lookaround/);
  expect(patternProblem('[')).toMatch(/not a valid regular expression for RE2.*missing closing \]/);
});

test('property: on patterns both engines express, RE2 tests and replaces as JavaScript does', () => {
  const atom = fc.constantFrom('a', 'b', 'c', '.', '[ab]', '[^a]', '\\d', '\\w', '\\s', '\\b', '1', ' ');
  const quantified = fc.tuple(atom, fc.constantFrom('', '*', '+', '?', '{2}', '{1,3}', '*?', '+?')).map(([a, q]) => (a === '\\b' ? a : a + q));
  const sequence = fc.array(quantified, { minLength: 1, maxLength: 4 }).map((parts) => parts.join(''));
  const pattern = fc.oneof(
    sequence,
    fc.tuple(sequence, sequence).map(([x, y]) => `${x}|${y}`),
    // A repeated group that can match empty is where the engines' empty-iteration rules differ: keep it non-empty.
    fc.tuple(sequence, sequence).map(([x, y]) => `([ab]${x})+${y}`),
  );
  const text = fc.stringMatching(/^[abcA1 \n]{0,12}$/);
  fc.assert(
    fc.property(pattern, fc.constantFrom('', 'i'), text, (source, flags, input) => {
      const js = new RegExp(source, `${flags}g`);
      const re2 = compileKeyword(source, flags);
      js.lastIndex = 0;
      expect(re2.test(input)).toBe(js.test(input));
      expect(re2.replaceAll(input, '<$&>')).toBe(input.replace(new RegExp(source, `${flags}g`), '<$&>'));
    }),
    { numRuns: 500 },
  );
});
