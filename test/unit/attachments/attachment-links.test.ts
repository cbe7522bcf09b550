import crypto from 'node:crypto';
import { AttachmentLinks } from '../../../app/attachments/attachment-links';

// Signed attachment links: valid until their expiry and never past the file's own, bound to the
// file id, the expiry and the key; anything altered, missing or late is attachment_link_invalid.

const key = crypto.randomBytes(32);
const clock = { now: 1_800_000_000_000 };
const links = new AttachmentLinks(key, 3_600_000, () => clock.now);
const file = 'AAAAAAAAAAAAAAAAAAAAAA';

function parts(path: string): { id: string; exp: string; sig: string } {
  const url = new URL(path, 'https://x');
  return { id: url.pathname.split('/')[2], exp: url.searchParams.get('exp')!, sig: url.searchParams.get('sig')! };
}

test('a link verifies until its expiry, an hour ahead, and not after', () => {
  const { id, exp, sig } = parts(links.pathOf({ name: 'a', file, expiresMs: clock.now + 86_400_000 })!);
  expect(Number(exp)).toBe(Math.ceil((clock.now + 3_600_000) / 1000));
  expect(() => links.verify(id, exp, sig)).not.toThrow();
  const later = new AttachmentLinks(key, 3_600_000, () => clock.now + 3_600_001);
  expect(() => later.verify(id, exp, sig)).toThrow(expect.objectContaining({ code: 'attachment_link_invalid' }));
});

test('never past the file\'s own expiry; none at all once the file has expired; none for a link attachment', () => {
  const soon = parts(links.pathOf({ name: 'a', file, expiresMs: clock.now + 10_000 })!);
  expect(Number(soon.exp)).toBe(Math.ceil((clock.now + 10_000) / 1000));
  expect(links.pathOf({ name: 'a', file, expiresMs: clock.now - 1 })).toBeNull();
  expect(links.pathOf({ name: 'a', url: 'https://example.com/a' })).toBeNull();
});

test('another id, expiry, signature or key is refused; so is a missing or malformed one', () => {
  const { id, exp, sig } = parts(links.pathOf({ name: 'a', file, expiresMs: clock.now + 86_400_000 })!);
  const other = new AttachmentLinks(crypto.randomBytes(32), 3_600_000, () => clock.now);
  const refused = [
    () => links.verify('BBBBBBBBBBBBBBBBBBBBBB', exp, sig),
    () => links.verify(id, String(Number(exp) + 1), sig),
    () => links.verify(id, exp, `${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`),
    () => other.verify(id, exp, sig),
    () => links.verify(id, undefined, sig),
    () => links.verify(id, exp, undefined),
    () => links.verify(id, ['1', '2'], sig),
    () => links.verify(id, '1e12', sig),
    // Only the signature as signed: base64url decoding skips characters it does not know and the
    // last character's spare bits, so these decoded to the same bytes and were let through.
    () => links.verify(id, exp, `${sig}!`),
    () => links.verify(id, exp, `${sig.slice(0, 20)}.${sig.slice(20)}`),
  ];
  for (const attempt of refused) expect(attempt).toThrow(expect.objectContaining({ code: 'attachment_link_invalid' }));
});
