import { execFile } from 'node:child_process';
import { startDaemon, type RunningDaemon } from '../../helpers/daemon';
import { Phone } from '../../helpers/phone';
import { createToken, HAMMER_LIMITS, send } from '../../helpers/compat';
import { answerTo, RealClients } from '../../helpers/real-clients';
import type { WireNotification } from '../../../app/domain/notification';

// Token-less publishing from local scripts (issue 13): `compat.ntfy.openTopics` lists topics that
// take a publish without a token, on the loopback admin listener only, POST and PUT only, and
// never from a web page (any Origin, or a Sec-Fetch-Site other than `none`, is refused). ntfy's
// first documented command and @cityssm/ntfy-publish's README example, exactly, after one line
// of config; the attack first: a browser-shaped request to the same listed topic.

let daemon: RunningDaemon;
let phone: Phone;

beforeAll(async () => {
  daemon = await startDaemon({ config: { compat: { ntfy: { openTopics: ['backups', 'cityssm-test'] } }, rateLimits: HAMMER_LIMITS } });
  phone = await Phone.paired(daemon, 'open topics phone');
  await phone.connect(daemon);
});

afterAll(async () => {
  phone?.disconnect();
  await daemon?.stop();
});

function onPhone(body: string, timeoutMs?: number): Promise<WireNotification> {
  return phone.withBody(body, timeoutMs);
}

/** Nothing with this body arrived: a sentinel published after it has arrived first. */
async function neverOnPhone(body: string): Promise<void> {
  const pub = (await createToken(daemon, 'publish')).token;
  const sentinel = `sentinel after ${body}`;
  expect((await send('POST', `${daemon.adminUrl}/sentinels`, sentinel, { authorization: `Bearer ${pub}` })).status).toBe(200);
  await onPhone(sentinel);
  expect([...phone.unique.values()].some((n) => n.body === body)).toBe(false);
}

function curl(args: string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-s', '-w', '\n%{http_code}', ...args], { timeout: 15_000 }, (error, stdout) => {
      if (error) return reject(error);
      const lines = stdout.split('\n');
      resolve({ status: Number(lines.pop()), body: lines.join('\n') });
    });
  });
}

describe('a web page cannot publish to an open topic (the attack)', () => {
  test('a browser-shaped POST (Origin, Sec-Fetch-Site: cross-site) to a listed topic is refused and nothing is delivered', async () => {
    const body = 'posted by a web page';
    const res = await send('POST', `${daemon.adminUrl}/backups`, body, {
      origin: 'https://evil.example', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'content-type': 'text/plain',
    });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 40300, http: 403, beep_code: 'forbidden_origin' });
    await neverOnPhone(body);
  });

  test('any Origin is refused, even a loopback one; a Sec-Fetch-Site other than none is refused without an Origin', async () => {
    const browsers: Record<string, string>[] = [{ origin: `${daemon.adminUrl}` }, { origin: 'null' }, { 'sec-fetch-site': 'same-origin' }, { 'sec-fetch-site': 'same-site' }];
    for (const headers of browsers) {
      const res = await send('POST', `${daemon.adminUrl}/backups`, 'browser', headers);
      expect({ headers, status: res.status }).toEqual({ headers, status: 403 });
    }
    await neverOnPhone('browser');
  });

  test('only POST and PUT: the GET publish routes of a listed topic still need a token', async () => {
    const res = await send('GET', `${daemon.adminUrl}/backups/publish?message=by+get`);
    expect(res.status).toBe(401);
  });

  test('only the admin listener: the gateway still needs a token for a listed topic', async () => {
    const res = await send('POST', `${daemon.gatewayUrl}/backups`, 'over the LAN', {}, daemon.caPem);
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ beep_code: 'unauthenticated' });
  });

  test('only the listed topics: another topic still needs a token', async () => {
    const res = await send('POST', `${daemon.adminUrl}/alerts`, 'not listed');
    expect(res.status).toBe(401);
  });
});

describe('local scripts, exactly as the docs show them', () => {
  test('ntfy\'s first curl command: curl -d "Backup done" host/backups', async () => {
    const res = await curl(['-d', 'Backup done', `${daemon.adminUrl}/backups`]);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ event: 'message', topic: 'backups', message: 'Backup done' });
    expect(await onPhone('Backup done')).toMatchObject({ title: 'backups', topic: 'backups', source: 'ntfy' });
  });

  test('curl -T (PUT) with a Sec-Fetch-Site: none (a typed URL) is a local script too', async () => {
    const res = await curl(['-X', 'PUT', '-H', 'Sec-Fetch-Site: none', '--data-binary', 'put from a script', `${daemon.adminUrl}/backups`]);
    expect(res.status).toBe(200);
    await onPhone('put from a script');
  });

  test('@cityssm/ntfy-publish\'s README example, verbatim but for its server', async () => {
    const clients = RealClients.for(daemon);
    const run = await clients.ntfyPublish({
      server: daemon.adminUrl,
      topic: 'cityssm-test',
      priority: 'high',
      title: 'Test High Priority Message',
      message: '1, 2, 3',
      tags: ['warning', 'computer'],
      iconURL: 'https://avatars.githubusercontent.com/cityssm',
      clickURL: 'https://github.com/cityssm/node-ntfy-publish',
    });
    expect(answerTo(run, 'POST', '/cityssm-test')?.status).toBe(200);
    expect(run).toMatchObject({ ok: true, value: true });
    expect(await onPhone('1, 2, 3')).toMatchObject({ title: 'Test High Priority Message', priority: 4, tags: ['warning', 'computer'], topic: 'cityssm-test' });
  });
});
