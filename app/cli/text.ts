// Small wording helpers the CLI's human output shares.

/** "1 notification", "2 notifications"; `many` for irregular plurals ("entry" → "entries"). */
export function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "sha256/ab12…" → "AB12 CD34 …": groups of four, as the phone's trust page shows it. */
export function groupedFingerprint(fingerprint: string): string {
  return fingerprint.replace(/^sha256\//i, '').toUpperCase().match(/.{1,4}/g)?.join(' ') ?? '';
}
