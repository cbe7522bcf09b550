import type { RE2JS as Re2 } from 're2js';

// The rules' keyword patterns are the user's regular expressions, run on every notification on
// the event loop. A backtracking engine can take exponential time on them ((a+)+$ against a
// long run of a's stalls the daemon), so they run on RE2 (re2js, linear in the input). RE2
// cannot express backreferences or lookaround: such a pattern is refused when the rules are
// saved, with the reason, instead of being run unsafely.

/** A compiled keyword pattern: linear-time test and replace, with JavaScript's `$&`/`$1` replacement syntax. */
export interface KeywordPattern {
  test(text: string): boolean;
  replaceAll(text: string, replacement: string): string;
}

/** re2js (~1.5 MB of heap), loaded when the first keyword pattern is checked or compiled: a daemon without keyword rules never holds it. */
function re2(): typeof Re2 {
  return (require('re2js') as typeof import('re2js')).RE2JS;
}

/** JavaScript spellings (named groups `(?<n>`, `\u00e9`, an unescaped `/`) in RE2's syntax. */
function toRe2(pattern: string, flags: string): Re2 {
  const RE2JS = re2();
  const FLAGS: Record<string, number> = { i: RE2JS.CASE_INSENSITIVE, m: RE2JS.MULTILINE, s: RE2JS.DOTALL };
  let bits = 0;
  for (const flag of flags) bits |= FLAGS[flag] ?? 0;
  return RE2JS.compile(RE2JS.translateRegExp(pattern), bits);
}

/**
 * Compiles a pattern with flags from [ims] (throws on a pattern RE2 refuses: see patternProblem).
 *
 *   const p = compileKeyword('\\b\\d{6}\\b', 'i');
 *   p.test('code 123456');                   // true
 *   p.replaceAll('code 123456', '••••••');   // 'code ••••••'
 */
export function compileKeyword(pattern: string, flags: string): KeywordPattern {
  const re = toRe2(pattern, flags);
  return {
    test: (text) => re.test(text),
    replaceAll: (text, replacement) => re.matcher(text).replaceAll(replacement),
  };
}

/** Why a pattern cannot be a keyword rule, in words for the user (after its name); null when it can. */
export function patternProblem(pattern: string): string | null {
  try {
    toRe2(pattern, '');
    return null;
  } catch (error) {
    const detail = (error as Error).message.replace(/^error parsing regexp: /, '');
    const engine = 'RE2 (the linear-time engine that keeps a pattern from stalling the daemon)';
    return /\\[1-9]|\(\?<?[=!]/.test(pattern)
      ? `cannot run on ${engine}: backreferences (\\1) and lookaround ((?=, (?!, (?<=, (?<!) are not supported; RE2 says: ${detail}`
      : `is not a valid regular expression for ${engine}: ${detail}`;
  }
}
