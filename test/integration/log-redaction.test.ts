import fs from 'node:fs';
import path from 'node:path';
import { startDaemon } from '../helpers/daemon';
import { Phone } from '../helpers/phone';

// A run at debug level that handles every kind of secret — the admin token, access and
// refresh tokens (and their rotation), a pairing code, a dashboard login nonce, session
// cookie and CSRF token — leaves none of them in the log files; request ids tie lines together.

describe('log files', () => {
  test('JSON lines, request ids, no secret of any kind', async () => {
    const daemon = await startDaemon({ env: { BEEP_LOG_LEVEL: 'debug' } });
    const secrets: string[] = [daemon.adminToken];
    try {
      const code = await daemon.admin('POST', '/api/v1/pairings');
      secrets.push(code.body.code);
      const paired = await daemon.gateway<any>('POST', '/api/v1/pair', { code: code.body.code, name: 'log phone', platform: 'test' });
      secrets.push(paired.body.accessToken, paired.body.refreshToken);
      // A wrong pairing attempt with the real code's neighbour, a refresh, and a reuse of the old refresh token.
      await daemon.gateway('POST', '/api/v1/pair', { code: code.body.code, name: 'again', platform: 'test' });
      const refreshed = await daemon.gateway<any>('POST', '/api/v1/token', { refreshToken: paired.body.refreshToken });
      secrets.push(refreshed.body.accessToken, refreshed.body.refreshToken);
      await daemon.gateway('POST', '/api/v1/token', { refreshToken: paired.body.refreshToken });
      // Secrets where a careless client puts them: in query strings that the access log records.
      await daemon.admin('GET', `/api/v1/notifications?token=${paired.body.accessToken}`);
      await daemon.admin('GET', '/api/v1/devices', undefined, { authorization: `Bearer ${daemon.adminToken}x` });
      const phone = new Phone(paired.body);
      await phone.connect(daemon, refreshed.body.accessToken).catch(() => undefined);
      await phone.connect(daemon, paired.body.accessToken, { query: { token: paired.body.accessToken } }).catch(() => undefined);
      // Dashboard login: nonce in the URL, then the session cookie and CSRF token.
      const link = await daemon.admin('POST', '/api/v1/dashboard/links');
      const nonce = new URL(link.body.url).searchParams.get('nonce')!;
      secrets.push(nonce);
      const login = await fetch(link.body.url, { redirect: 'manual' });
      const cookie = login.headers.get('set-cookie')!.split(';')[0];
      secrets.push(cookie.split('=')[1]);
      const session = await daemon.admin('GET', '/api/v1/dashboard/session', undefined, { authorization: '', cookie } as any);
      secrets.push(session.body.csrfToken);
      await fetch(link.body.url, { redirect: 'manual' }); // used twice: refused, logged
      phone.disconnect();
    } finally {
      expect(await daemon.stop()).toBe(0);
    }
    const dir = path.join(daemon.dataDir, 'logs');
    const text = fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('');
    const lines = text.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.some((l) => l.message === 'request' && l.path.startsWith('/dashboard/login?nonce=[redacted]'))).toBe(true);
    expect(lines.some((l) => l.message === 'device paired' && l.requestId)).toBe(true);
    expect(lines.some((l) => l.message === 'refresh token reused; device signed out')).toBe(true);
    for (const secret of secrets) {
      expect(typeof secret).toBe('string');
      expect(secret.length).toBeGreaterThanOrEqual(8);
      expect(text).not.toContain(secret);
    }
  });
});
