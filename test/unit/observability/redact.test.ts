import { redactText, redactValue } from '../../../app/observability/redact';

// The one redaction step: secret keys at any depth, secret shapes inside any string.

const ADMIN = 'Zq3v9Kx1mP0aB7cD2eF4gH6iJ8kL0mN1oP3qR5sT7uV'; // 43 base64url characters
const JWT = 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJkZXYifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ';

describe('redaction', () => {
  test('secret keys, nested and in arrays, whatever their case', () => {
    const out = redactValue({
      headers: { Authorization: `Bearer ${ADMIN}`, cookie: 'beep_session=abc' },
      body: { refreshToken: 'r', accessToken: 'a', nested: [{ password: 'p', csrf_token: 'c' }] },
      code: '12345678',
      error: 'title_required',
    }) as any;
    expect(out.headers).toEqual({ Authorization: '[redacted]', cookie: '[redacted]' });
    expect(out.body).toEqual({ refreshToken: '[redacted]', accessToken: '[redacted]', nested: [{ password: '[redacted]', csrf_token: '[redacted]' }] });
    expect(out.code).toBe('[redacted]');
    expect(out.error).toBe('title_required');
    expect(redactValue({ code: 'invalid_token' })).toEqual({ code: 'invalid_token' });
  });

  test('secret shapes inside free text', () => {
    const text = redactText(
      `auth Bearer ${ADMIN}; jwt ${JWT}; url /dashboard/login?nonce=${ADMIN}&x=1 #code=12345678&fp=sha256%2Fab; cookie beep_session=${ADMIN}; bare ${ADMIN}.`,
    );
    expect(text).not.toContain(ADMIN);
    expect(text).not.toContain(JWT.split('.')[1]);
    expect(text).not.toContain('12345678');
    expect(text).toContain('&x=1');
  });

  test('public identifiers stay readable', () => {
    const fingerprint = `sha256/${'ab12'.repeat(16)}`;
    const uuid = '3f2b8c1e-9a4d-4e6f-8b2a-1c3d5e7f9a0b';
    expect(redactText(`${fingerprint} ${uuid} request 0123456789abcdef`)).toBe(`${fingerprint} ${uuid} request 0123456789abcdef`);
  });

  test('errors and cycles', () => {
    const cyclic: any = { a: 1 };
    cyclic.self = cyclic;
    expect(redactValue(cyclic)).toEqual({ a: 1, self: '[circular]' });
    expect(redactValue(new Error(`bad token ${JWT}`))).not.toContain(JWT);
  });
});
