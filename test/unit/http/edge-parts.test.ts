import fc from 'fast-check';
import type { IncomingMessage } from 'node:http';
import type { RateLimiter, ViolationBlocker } from '../../../app/auth/rate-limiter';
import { BeepError } from '../../../app/domain/errors';
import { clientAddress, normaliseAddress } from '../../../app/http/client-address';
import { errorPayload, knownError } from '../../../app/http/error-answer';
import { IpGate } from '../../../app/http/ip-gate';
import { parseTarget } from '../../../app/http/request-target';
import { familyOf } from '../../../app/http/route-family';

// The pure parts of a listener's edge: the target check, the route family, the client
// address, the error mapper and the gate's one violation accounting.

describe('parseTarget', () => {
  test('origin-form and absolute-form are accepted; leading slashes collapse', () => {
    expect(parseTarget('/topic/json?since=all')).toEqual({ pathname: '/topic/json', search: '?since=all' });
    expect(parseTarget('http://a:80/x?y=%ZZ')).toEqual({ pathname: '/x', search: '?y=%ZZ' });
    expect(parseTarget('//evil:99999/x')).toEqual({ pathname: '/evil:99999/x', search: '' });
    expect(parseTarget('/\\evil/x').pathname).toBe('/evil/x');
  });

  test.each(['/%ZZ/ws', '/%E0%A4%A', 'http://a:99999/', '*', 'a:80', '', 'http://a/%ZZ'])('%j is a 400', (raw) => {
    expect(() => parseTarget(raw)).toThrow(BeepError);
  });

  test('property: never anything but a BeepError; an accepted path decodes and is safe for new URL(path, base)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.webUrl(), fc.webPath(), fc.string().map((s) => `/${s}`)), (raw) => {
        let target;
        try {
          target = parseTarget(raw);
        } catch (error) {
          expect(error).toBeInstanceOf(BeepError);
          return;
        }
        expect(() => decodeURIComponent(target.pathname)).not.toThrow();
        expect(target.pathname).toMatch(/^\/(?![/\\])/);
        expect(new URL(target.pathname + target.search, 'http://beep.invalid').host).toBe('beep.invalid');
      }),
      { numRuns: 2000 },
    );
  });
});

describe('familyOf', () => {
  test.each([
    ['/%ZZ/ws', 'ntfy'],
    ['/alerts', 'ntfy'],
    ['/a,b/sse', 'ntfy'],
    ['/message', 'gotify'],
    ['/message/%ZZ', 'gotify'],
    ['/stream', 'gotify'],
    ['/plugin', 'gotify'],
    ['/plugin/3/config', 'gotify'],
    ['/user/2', 'gotify'],
    ['/api/v1/devices/x', 'beep'],
    ['/js/app.js', 'beep'],
    ['/socket.io/', 'beep'],
    ['/', 'beep'],
    ['/ca.crt', 'beep'],
    ['/health', 'beep'],
  ])('%s → %s', (path, family) => {
    expect(familyOf(path, true)).toBe(family);
  });

  test('POST / is ntfy JSON publishing; with compat off everything is Beep', () => {
    expect(familyOf('/', true, 'POST')).toBe('ntfy');
    expect(familyOf('/message', false)).toBe('beep');
  });
});

describe('client address', () => {
  const req = (remoteAddress: string, xff?: string) => ({ socket: { remoteAddress }, headers: xff ? { 'x-forwarded-for': xff } : {} }) as unknown as IncomingMessage;

  test('IPv4-mapped IPv6 becomes IPv4; IPv6 is lower-cased', () => {
    expect(normaliseAddress('::ffff:10.0.0.7')).toBe('10.0.0.7');
    expect(normaliseAddress('::FFFF:10.0.0.7')).toBe('10.0.0.7');
    expect(normaliseAddress('FE80::1')).toBe('fe80::1');
    expect(normaliseAddress('::ffff:999.1.1.1')).toBe('::ffff:999.1.1.1');
    expect(clientAddress(req('::ffff:192.168.1.5'), 0)).toBe('192.168.1.5');
  });

  test('trusted hops pick the proxy-seen entry, normalised; a forged left entry or garbage changes nothing', () => {
    expect(clientAddress(req('10.0.0.1', '1.1.1.1, ::ffff:203.0.113.9'), 1)).toBe('203.0.113.9');
    expect(clientAddress(req('10.0.0.1', '1.1.1.1'), 0)).toBe('10.0.0.1');
    expect(clientAddress(req('10.0.0.1', 'not-an-ip'), 1)).toBe('10.0.0.1');
    expect(clientAddress(req('10.0.0.1', '198.51.100.1'), 3)).toBe('198.51.100.1');
  });
});

describe('error mapper', () => {
  test('library 4xx errors are client errors, not internal', () => {
    expect(knownError(Object.assign(new URIError('Failed to decode param'), { status: 400 }))?.code).toBe('validation_failed');
    expect(knownError({ type: 'entity.too.large', status: 413 })?.code).toBe('payload_too_large');
    expect(knownError({ status: 404, expose: true })?.code).toBe('not_found');
    expect(knownError(new Error('boom'))).toBeUndefined();
    expect(knownError({ type: 'not a body-parser error' })).toBeUndefined();
  });

  test('each family has its shape, with the stable code', () => {
    const e = new BeepError('invalid_token');
    expect(errorPayload('beep', e)).toEqual({ error: { code: 'invalid_token', message: e.message } });
    expect(errorPayload('ntfy', e)).toMatchObject({ code: 40100, http: 401, beep_code: 'invalid_token' });
    expect(errorPayload('gotify', e)).toMatchObject({ error: 'Unauthorized', errorCode: 401, beep_code: 'invalid_token' });
  });
});

describe('IpGate: one violation accounting', () => {
  function fakes(allowed: boolean, blockedFor = 0) {
    const calls: string[] = [];
    const blocker: ViolationBlocker = {
      blockedFor: async () => blockedFor,
      violation: async (k) => (calls.push(`violation ${k}`), true),
      success: async (k) => void calls.push(`success ${k}`),
    };
    const budget: RateLimiter = { consume: async () => ({ allowed, limit: 1, remaining: allowed ? 1 : 0, resetSec: 7 }) };
    return { calls, blocker, budget };
  }
  const flush = () => new Promise((r) => setImmediate(r));

  test('a 429 from any limit extends the streak (and may block); any other answer ends it', async () => {
    const { calls, blocker } = fakes(true);
    const blocked: string[] = [];
    const gate = new IpGate(blocker, { onBlocked: (a) => blocked.push(a) });
    gate.settle('1.2.3.4', 429);
    gate.settle('1.2.3.4', 101);
    gate.settle('1.2.3.4', 401);
    await flush();
    expect(calls).toEqual(['violation 1.2.3.4', 'success 1.2.3.4', 'success 1.2.3.4']);
    expect(blocked).toEqual(['1.2.3.4']);
  });

  test('a refusal names its budget; an answer to a blocked address changes nothing', async () => {
    const limited: string[] = [];
    const refused = fakes(false);
    const gate = new IpGate(refused.blocker, { onLimited: (scope) => limited.push(scope) });
    const a = await gate.admit('1.2.3.4', refused.budget, 'gateway_ip');
    expect(a.refusal?.code).toBe('rate_limited');
    expect(a.refusal?.retryAfter).toBe(7);
    const blocked = fakes(true, 900);
    const gate2 = new IpGate(blocked.blocker, { onLimited: (scope) => limited.push(scope) });
    const b = await gate2.admit('1.2.3.4', blocked.budget, 'gateway_ip');
    expect(b.refusal?.code).toBe('ip_blocked');
    gate2.settle('1.2.3.4', 429, b.refusal);
    await flush();
    expect(blocked.calls).toEqual([]);
    expect(limited).toEqual(['gateway_ip', 'blocked']);
  });
});
