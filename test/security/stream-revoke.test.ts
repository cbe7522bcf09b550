import { startDaemon, type RunningDaemon } from '../helpers/daemon';
import { createToken, fillTopic, HttpStream, StalledReader, until } from '../helpers/compat';

// [harden] item 2: revoking the token of an ntfy JSON stream whose client stopped reading ended
// the response but left its keepalive timer running; the next keepalive wrote after the end,
// an 'error' with no listener stopped the process. A closed stream stops every timer it owns,
// and writing to an ended or failed stream is never an error nobody hears.

let daemon: RunningDaemon;

beforeAll(async () => {
  // A keepalive every second, so "after the keepalive" comes quickly.
  daemon = await startDaemon({ config: { compat: { keepaliveSec: 1 } } });
});

afterAll(async () => {
  await daemon?.stop();
});

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const keepalives = (s: HttpStream) => s.json.filter((m) => m.event === 'keepalive').length;

test('revoking the token of a stalled ntfy stream ends it, stops its keepalive, and the daemon lives on', async () => {
  // Enough backlog (~12 MB of ndjson) that the server cannot hand it all to the kernel.
  await fillTopic(daemon, 'stalled', 3000);
  const doomed = await createToken(daemon, 'subscribe', ['stalled']);
  const stalled = await StalledReader.open(daemon.runtime.adminPort, '/stalled/json?since=all', bearer(doomed.token));
  expect(stalled.status).toBe(200);
  // A healthy subscriber on another token: its keepalives show the timers have ticked.
  const watcher = await createToken(daemon, 'subscribe', ['elsewhere']);
  const healthy = await HttpStream.open(`${daemon.adminUrl}/elsewhere/json`, bearer(watcher.token));
  await until(() => keepalives(healthy) >= 1, 'a first keepalive');

  expect((await daemon.admin('DELETE', `/api/v1/tokens/${doomed.id}`)).status).toBe(204);
  const atRevoke = keepalives(healthy);
  await until(() => daemon.proc.exitCode !== null || keepalives(healthy) >= atRevoke + 4, 'four keepalive periods after the revoke', 30_000);
  expect({ exitCode: daemon.proc.exitCode, log: daemon.proc.exitCode === null ? '' : daemon.logs().slice(-1500) }).toEqual({ exitCode: null, log: '' });
  expect((await daemon.admin('GET', '/health')).status).toBe(200);
  // The stalled connection was ended by the server, not left open with a timer on it.
  expect(await stalled.resume(20_000)).toBe(true);
  healthy.close();
});
