import { startDaemon, type RunningDaemon } from '../helpers/daemon';
import { createToken, send, until, WsReader } from '../helpers/compat';

// [harden] item 5: any unscoped subscribe token could mint new tokens through Gotify's
// POST /client and revoke the owner's other clients; the tokens it minted lived on after it
// was revoked; the audit entries named the wrong actor. Now only the Gotify Basic login (the
// admin's password) and the clients it created may manage clients; a client dies with the
// client that created it, applications (publish tokens) never do; the audit names the token
// that acted.

const PASSWORD = 'token rights password';
let daemon: RunningDaemon;

beforeAll(async () => {
  daemon = await startDaemon();
  expect((await daemon.cli(['admin', 'password', 'set'], { input: `${PASSWORD}\n` })).status).toBe(0);
});

afterAll(async () => {
  await daemon?.stop();
});

const gw = (method: string, p: string, headers: Record<string, string> = {}, body?: unknown) =>
  send(method, `${daemon.gatewayUrl}${p}`, body === undefined ? undefined : JSON.stringify(body), { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers }, daemon.caPem);
const basic = { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}` };
const key = (token: string) => ({ 'X-Gotify-Key': token });
type Entry = { event: string; actor: string; details: Record<string, unknown> };
const audit = async (): Promise<Entry[]> => (await daemon.admin('GET', '/api/v1/audit?limit=500')).body;

test('a `beep token create --subscribe` token cannot create, list or delete Gotify clients', async () => {
  const leaked = await createToken(daemon, 'subscribe', undefined, 'leaked reader');
  const phone = (await gw('POST', '/client', basic, { name: 'Pixel' })).body;
  expect(phone.token).toMatch(/^bk_/);
  const results = {
    create: (await gw('POST', '/client', key(leaked.token), { name: 'attacker' })).status,
    list: (await gw('GET', '/client', key(leaked.token))).status,
    remove: (await gw('DELETE', `/client/${phone.id}`, key(leaked.token))).status,
  };
  expect(results).toEqual({ create: 403, list: 403, remove: 403 });
  // It still reads, as a subscribe token should; the phone's client is untouched.
  expect((await gw('GET', '/message', key(leaked.token))).status).toBe(200);
  expect((await gw('GET', '/current/user', key(phone.token))).status).toBe(200);
});

test('a client created by the Gotify login may create clients; they die with it, applications do not', async () => {
  const script = await createToken(daemon, 'publish', undefined, 'backup script');
  const phone = (await gw('POST', '/client', basic, { name: 'lost phone' })).body;
  const child = await gw('POST', '/client', key(phone.token), { name: 'made by the phone' });
  expect(child.status).toBe(200);
  const grandchild = await gw('POST', '/client', key(child.body.token), { name: 'made by the child' });
  expect(grandchild.status).toBe(403); // only clients the login created may mint
  const stream = await WsReader.open(`wss://localhost:${daemon.runtime.gatewayPort}/stream`, key(child.body.token), daemon.caPem);
  expect(stream.refused).toBeUndefined();

  // The owner deletes the lost phone's client (with the password, as the Gotify app does).
  expect((await gw('DELETE', `/client/${phone.id}`, basic)).status).toBe(200);
  await until(() => stream.closed, "the child's stream closed");
  expect((await gw('GET', '/current/user', key(child.body.token))).status).toBe(401);
  expect((await gw('GET', '/current/user', key(phone.token))).status).toBe(401);
  // The script's application token was not created by the phone and lives on.
  const posted = await gw('POST', '/message', key(script.token), { message: 'still publishing' });
  expect(posted.status).toBe(200);
});

test('audit entries name the token that acted', async () => {
  const phone = (await gw('POST', '/client', basic, { name: 'auditor phone' })).body;
  const child = (await gw('POST', '/client', key(phone.token), { name: 'audited child' })).body;
  expect((await gw('DELETE', `/client/${child.id}`, key(phone.token))).status).toBe(200);
  const entries = await audit();
  const created = entries.find((e) => e.event === 'api_token_created' && e.details.tokenId === child.id);
  const revoked = entries.find((e) => e.event === 'api_token_revoked' && e.details.tokenId === child.id);
  expect({ created: created?.actor, revoked: revoked?.actor }).toEqual({ created: `token:${phone.id}`, revoked: `token:${phone.id}` });
  const byLogin = entries.find((e) => e.event === 'api_token_created' && e.details.tokenId === phone.id);
  expect(byLogin?.actor).toBe('admin');
});
