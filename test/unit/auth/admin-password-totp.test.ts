import bcrypt from 'bcrypt';
import { checkPasswordPolicy, hashAdminPassword, verifyAdminPassword } from '../../../app/auth/admin-password';
import { base32Decode, base32Encode, totpAt, verifyTotp } from '../../../app/auth/totp';

// The dashboard password policy and hashing, and TOTP against RFC 6238's test vectors.

test('over 72 bytes (counted in UTF-8), a NUL, a short or non-string password: refused with a clear reason', () => {
  const code = (p: unknown) => {
    try {
      checkPasswordPolicy(p);
      return 'ok';
    } catch (error) {
      return `${(error as { code: string }).code}: ${(error as Error).message}`;
    }
  };
  expect(code('a'.repeat(73))).toMatch(/^password_invalid: .*73 bytes.*not silently truncated|refused rather than silently truncated/);
  expect(code('é'.repeat(37))).toMatch(/74 bytes/); // 37 characters, 74 bytes
  expect(code('correct horse\0battery')).toMatch(/NUL/);
  expect(code('short')).toMatch(/at least 12/);
  expect(code(42)).toMatch(/string/);
  expect(code('a'.repeat(72))).toBe('ok');
});

test('bcrypt cost 12; verify accepts the password and refuses others, including a 73-byte extension', async () => {
  const password = 'x'.repeat(72);
  const hash = await hashAdminPassword(password);
  expect(bcrypt.getRounds(hash)).toBe(12);
  expect(await verifyAdminPassword(password, hash)).toBe(true);
  expect(await verifyAdminPassword(`${password}y`, hash)).toBe(false); // bcrypt alone would say true
  expect(await verifyAdminPassword('y'.repeat(72), hash)).toBe(false);
  await expect(hashAdminPassword('a'.repeat(100))).rejects.toMatchObject({ code: 'password_invalid' });
});

test('TOTP matches RFC 6238 (SHA-1) vectors and accepts one step of clock skew', () => {
  const secret = Buffer.from('12345678901234567890');
  expect(totpAt(secret, 59_000, 8)).toBe('94287082');
  expect(totpAt(secret, 1_111_111_109_000, 8)).toBe('07081804');
  expect(totpAt(secret, 20_000_000_000_000, 8)).toBe('65353130');
  const b32 = base32Encode(secret);
  expect(base32Decode(b32)).toEqual(secret);
  const now = 1_111_111_109_000;
  const code = totpAt(secret, now);
  expect(verifyTotp(b32, code, now)).toBe(true);
  expect(verifyTotp(b32, code, now + 30_000)).toBe(true);
  expect(verifyTotp(b32, code, now + 90_000)).toBe(false);
  expect(verifyTotp(b32, '12345', now)).toBe(false);
  expect(verifyTotp(b32, 123456, now)).toBe(false);
});
