import Database from 'better-sqlite3';
import { ApiTokenRepository } from '../../../app/store/api-token-repository';
import { migrate } from '../../../app/store/database';

// Token lineage (migration 007): revoking a client revokes every client created under it, at
// any depth, in the same write; applications (publish tokens) and unrelated tokens stay; a
// child is never created under a revoked parent.

function repository(): ApiTokenRepository {
  const db = new Database(':memory:');
  migrate(db);
  return new ApiTokenRepository(db);
}

const ADMIN = { origin: 'admin' as const, parentId: null };

test('revoking a client sweeps its lineage of clients, not applications or strangers', () => {
  const repo = repository();
  const login = repo.insert('h1', 'subscribe', 'phone', null, { origin: 'gotify_login', parentId: null }, 1)!;
  const child = repo.insert('h2', 'subscribe', 'child', null, { origin: 'gotify_client', parentId: login.id }, 2)!;
  // Deeper lineages and a publish token under a client cannot be made through the API; the store holds the line anyway.
  const grandchild = repo.insert('h3', 'subscribe', 'grandchild', null, { origin: 'gotify_client', parentId: child.id }, 3)!;
  const app = repo.insert('h4', 'publish', 'app under a client', null, { origin: 'gotify_client', parentId: login.id }, 4)!;
  const stranger = repo.insert('h5', 'subscribe', 'cli reader', null, ADMIN, 5)!;
  expect(login.origin).toBe('gotify_login');
  expect(child.parentId).toBe(login.id);

  expect(repo.revoke(login.id, 10)).toEqual([login.id, child.id, grandchild.id]);
  expect(repo.list().map((t) => t.id)).toEqual([app.id, stranger.id]);
  expect(repo.revoke(login.id, 11)).toEqual([]);
  expect(repo.revoke(9999, 11)).toEqual([]);
  expect(repo.insert('h6', 'subscribe', 'orphan', null, { origin: 'gotify_client', parentId: login.id }, 12)).toBeUndefined();
  expect(repo.insert('h7', 'subscribe', 'orphan', null, { origin: 'gotify_client', parentId: 424242 }, 12)).toBeUndefined();
});

test('tokens created before migration 007 read as created by the admin', () => {
  const db = new Database(':memory:');
  migrate(db);
  db.prepare("INSERT INTO api_tokens (hash, kind, name, topics, created_ms) VALUES ('h', 'subscribe', 'old', NULL, 1)").run();
  expect(new ApiTokenRepository(db).list()[0]).toMatchObject({ origin: 'admin', parentId: null });
});

test('a Gotify application (migration 015): its own topic named from its id in the same write, its settings updated, a revoked one not', () => {
  const repo = repository();
  const app = repo.insert('a1', 'publish', 'ci', null, ADMIN, 1, { description: 'the CI', defaultPriority: 8, topicOf: (id) => `ci-${id}` })!;
  expect(app).toMatchObject({ name: 'ci', topics: [`ci-${app.id}`], description: 'the CI', defaultPriority: 8 });
  const plain = repo.insert('a2', 'publish', 'script', ['alerts'], ADMIN, 2)!;
  expect(plain).toMatchObject({ topics: ['alerts'], description: null, defaultPriority: null });
  expect(repo.update(app.id, { name: 'ci-2', description: '', defaultPriority: null })).toMatchObject({ id: app.id, name: 'ci-2', description: '', defaultPriority: null, topics: [`ci-${app.id}`] });
  expect(repo.byHash('a1')).toMatchObject({ name: 'ci-2' });
  repo.revoke(app.id, 3);
  expect(repo.update(app.id, { name: 'ghost', description: '', defaultPriority: null })).toBeUndefined();
  expect(repo.update(424242, { name: 'ghost', description: '', defaultPriority: null })).toBeUndefined();
});
