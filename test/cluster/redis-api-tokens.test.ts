import { RedisApiTokens } from '../../app/cluster/redis-api-tokens';
import { useRedis } from './fixtures';

// ntfy / Gotify API tokens on Redis, case for case with test/unit/store/api-token-repository.test.ts
// (revoking a client sweeps its lineage of clients, never applications or strangers; no child
// under a revoked or unknown parent; a Gotify application's topic named from its id in the same
// write, its settings updated, a revoked one not) and what store/api-token-store.ts answers
// (lookup by hash of live tokens only, list oldest first, last use); plus Redis: a revocation on
// one connection refuses the token on another at once, two inserts at once get distinct ids, and
// everything survives a redis-server restart.

const fixture = useRedis({ config: { appendfsync: 'always' } });

const ADMIN = { origin: 'admin' as const, parentId: null };

test('revoking a client sweeps its lineage of clients, not applications or strangers', async () => {
  const repo = new RedisApiTokens(fixture.redis, fixture.keys);
  const login = (await repo.insertApiToken('h1', 'subscribe', 'phone', null, { origin: 'gotify_login', parentId: null }))!;
  const child = (await repo.insertApiToken('h2', 'subscribe', 'child', null, { origin: 'gotify_client', parentId: login.id }))!;
  const grandchild = (await repo.insertApiToken('h3', 'subscribe', 'grandchild', null, { origin: 'gotify_client', parentId: child.id }))!;
  const app = (await repo.insertApiToken('h4', 'publish', 'app under a client', null, { origin: 'gotify_client', parentId: login.id }))!;
  const stranger = (await repo.insertApiToken('h5', 'subscribe', 'cli reader', null, ADMIN))!;
  expect(login.origin).toBe('gotify_login');
  expect(child.parentId).toBe(login.id);

  expect(await repo.revokeApiToken(login.id)).toEqual([login.id, child.id, grandchild.id]);
  expect((await repo.listApiTokens()).map((t) => t.id)).toEqual([app.id, stranger.id]);
  expect(await repo.revokeApiToken(login.id)).toEqual([]);
  expect(await repo.revokeApiToken(9999)).toEqual([]);
  expect(await repo.insertApiToken('h6', 'subscribe', 'orphan', null, { origin: 'gotify_client', parentId: login.id })).toBeUndefined();
  expect(await repo.insertApiToken('h7', 'subscribe', 'orphan', null, { origin: 'gotify_client', parentId: 424242 })).toBeUndefined();
  for (const h of ['h1', 'h2', 'h3']) expect(await repo.apiTokenByHash(h)).toBeUndefined();
  expect(await repo.apiTokenByHash('h4')).toMatchObject({ id: app.id });
});

test('revoking a middle client takes its own line only; an already revoked child is not listed again', async () => {
  const repo = new RedisApiTokens(fixture.redis, fixture.keys);
  const login = (await repo.insertApiToken('a', 'subscribe', 'login', null, { origin: 'gotify_login', parentId: null }))!;
  const c1 = (await repo.insertApiToken('b', 'subscribe', 'c1', null, { origin: 'gotify_client', parentId: login.id }))!;
  const c2 = (await repo.insertApiToken('c', 'subscribe', 'c2', null, { origin: 'gotify_client', parentId: c1.id }))!;
  const c3 = (await repo.insertApiToken('d', 'subscribe', 'c3', null, { origin: 'gotify_client', parentId: c2.id }))!;
  expect(await repo.revokeApiToken(c2.id)).toEqual([c2.id, c3.id]);
  expect(await repo.revokeApiToken(login.id)).toEqual([login.id, c1.id]);
});

test('a Gotify application: its own topic named from its id in the same write, its settings updated, a revoked one not', async () => {
  const repo = new RedisApiTokens(fixture.redis, fixture.keys);
  const app = (await repo.insertApiToken('a1', 'publish', 'ci', null, ADMIN, { description: 'the CI', defaultPriority: 8, topicOf: (id) => `ci-${id}` }))!;
  expect(app).toMatchObject({ name: 'ci', topics: [`ci-${app.id}`], description: 'the CI', defaultPriority: 8 });
  const plain = (await repo.insertApiToken('a2', 'publish', 'script', ['alerts'], ADMIN))!;
  expect(plain).toMatchObject({ topics: ['alerts'], description: null, defaultPriority: null });
  expect(await repo.updateApplication(app.id, { name: 'ci-2', description: '', defaultPriority: null })).toMatchObject({ id: app.id, name: 'ci-2', description: '', defaultPriority: null, topics: [`ci-${app.id}`] });
  expect(await repo.apiTokenByHash('a1')).toMatchObject({ name: 'ci-2' });
  await repo.revokeApiToken(app.id);
  expect(await repo.updateApplication(app.id, { name: 'ghost', description: '', defaultPriority: null })).toBeUndefined();
  expect(await repo.updateApplication(424242, { name: 'ghost', description: '', defaultPriority: null })).toBeUndefined();
});

test('a record: every field; ids ascend; last use recorded; a hash stored twice refused', async () => {
  const repo = new RedisApiTokens(fixture.redis, fixture.keys);
  const before = Date.now();
  const a = (await repo.insertApiToken('hash-a', 'publish', 'backups', ['alerts', 'disk'], ADMIN))!;
  const b = (await repo.insertApiToken('hash-b', 'subscribe', 'reader', null, ADMIN))!;
  expect(b.id).toBeGreaterThan(a.id);
  expect(a).toEqual({ id: a.id, kind: 'publish', name: 'backups', topics: ['alerts', 'disk'], createdAt: expect.any(String), lastUsedAt: null, revokedAt: null, origin: 'admin', parentId: null, description: null, defaultPriority: null });
  expect(Date.parse(a.createdAt)).toBeGreaterThanOrEqual(before);
  await repo.touchApiToken(a.id, 1_700_000_000_000);
  expect((await repo.apiTokenByHash('hash-a'))!.lastUsedAt).toBe(new Date(1_700_000_000_000).toISOString());
  await repo.touchApiToken(4242, 1); // unknown: nothing made
  expect(await fixture.redis.exists(fixture.keys.apiToken(4242))).toBe(0);
  expect(await repo.apiTokenByHash('nope')).toBeUndefined();
  await expect(repo.insertApiToken('hash-a', 'publish', 'dup', null, ADMIN)).rejects.toMatchObject({ name: 'CommitError' });
});

test('a token revoked on one connection is refused on another at once', async () => {
  const nodeA = new RedisApiTokens(fixture.redis, fixture.keys);
  const nodeB = new RedisApiTokens(fixture.other, fixture.keys);
  const t = (await nodeA.insertApiToken('live', 'publish', 'p', null, ADMIN))!;
  expect(await nodeB.apiTokenByHash('live')).toMatchObject({ id: t.id });
  await nodeA.revokeApiToken(t.id);
  expect(await nodeB.apiTokenByHash('live')).toBeUndefined();
  expect(await nodeB.listApiTokens()).toEqual([]);
});

test('inserts from two connections at once get distinct ids; a child and its parent revoked at once: no live orphan', async () => {
  const nodeA = new RedisApiTokens(fixture.redis, fixture.keys);
  const nodeB = new RedisApiTokens(fixture.other, fixture.keys);
  const made = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? nodeA : nodeB).insertApiToken(`x${i}`, 'publish', `t${i}`, null, ADMIN)));
  expect(new Set(made.map((t) => t!.id)).size).toBe(40);
  for (let round = 0; round < 20; round++) {
    const parent = (await nodeA.insertApiToken(`p${round}`, 'subscribe', 'login', null, { origin: 'gotify_login', parentId: null }))!;
    const [, child] = await Promise.all([nodeA.revokeApiToken(parent.id), nodeB.insertApiToken(`c${round}`, 'subscribe', 'child', null, { origin: 'gotify_client', parentId: parent.id })]);
    // Either refused, or made first and swept with its parent.
    expect(await nodeB.apiTokenByHash(`c${round}`)).toBeUndefined();
    if (child) expect((await nodeA.listApiTokens()).map((t) => t.id)).not.toContain(child.id);
  }
});

test('tokens and revocations survive a redis-server restart (appendonly, fsync always)', async () => {
  const repo = new RedisApiTokens(fixture.redis, fixture.keys);
  const kept = (await repo.insertApiToken('kept', 'publish', 'kept', ['a'], ADMIN))!;
  const gone = (await repo.insertApiToken('gone', 'subscribe', 'gone', null, ADMIN))!;
  await repo.revokeApiToken(gone.id);
  await fixture.server.kill9();
  await fixture.server.restart();
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && (await fixture.redis.ping().catch(() => null)) !== 'PONG') await new Promise((r) => setTimeout(r, 100));
  expect(await repo.apiTokenByHash('kept')).toEqual(kept);
  expect(await repo.apiTokenByHash('gone')).toBeUndefined();
  const next = (await repo.insertApiToken('next', 'publish', 'n', null, ADMIN))!;
  expect(next.id).toBeGreaterThan(gone.id);
});
