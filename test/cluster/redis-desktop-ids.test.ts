import { RedisDesktopIds } from '../../app/cluster/redis-desktop-ids';
import { RedisOutbox } from '../../app/cluster/redis-outbox';
import { input, realSealer, useRedis } from './fixtures';

// The desktop-id map on Redis, with the semantics of store/desktop-id-repository.ts (a mapping
// per notification, replaced when remembered again; the newest notification under a key wins;
// ignored when the notification is gone) plus the owner node: a phone's dismissal reaching node
// B finds that node A's desktop showed it; each node's sources see only their own keys (the same
// Windows record id on two PCs does not collide); the mapping expires with the notification's id
// claim; a mapping made on one connection is read on another at once; it survives a restart.

const fixture = useRedis({ config: { appendfsync: 'always' } });
const sealer = realSealer();
const noop = () => undefined;

async function append(...ids: string[]): Promise<void> {
  const outbox = new RedisOutbox(fixture.redis, fixture.keys, sealer, 3_600);
  for (const id of ids) await outbox.append(input({ source: 'dbus' }), id, noop);
}

test('remember and look up both ways; the newest under a key wins; a gone notification is ignored; remembering again replaces', async () => {
  const ids = new RedisDesktopIds(fixture.redis, fixture.keys, 'node-a');
  await append('n1', 'n2', 'n3');
  await ids.rememberDesktopId('dbus', 'bus/:1.5/7', 'n1');
  await ids.rememberDesktopId('dbus', 'bus/:1.5/7', 'n2'); // the desktop reused its id
  expect(await ids.notificationForDesktopKey('dbus', 'bus/:1.5/7')).toBe('n2');
  expect(await ids.desktopKeyOf('dbus', 'n1')).toBe('bus/:1.5/7');
  expect(await ids.desktopKeyOf('macos', 'n1')).toBeUndefined();
  expect(await ids.notificationForDesktopKey('dbus', 'unknown')).toBeUndefined();
  await ids.rememberDesktopId('dbus', 'k', 'never-stored');
  expect(await ids.notificationForDesktopKey('dbus', 'k')).toBeUndefined();
  expect(await ids.desktopKeyOf('dbus', 'never-stored')).toBeUndefined();
  // n2 remembered under another key: the old key falls back to the newest left under it.
  await ids.rememberDesktopId('dbus', 'bus/:1.5/8', 'n2');
  expect(await ids.notificationForDesktopKey('dbus', 'bus/:1.5/7')).toBe('n1');
  expect(await ids.notificationForDesktopKey('dbus', 'bus/:1.5/8')).toBe('n2');
  // The notification gone (its claim expired): no longer found under its key.
  await fixture.redis.del(fixture.keys.id('n2'));
  expect(await ids.notificationForDesktopKey('dbus', 'bus/:1.5/8')).toBeUndefined();
});

test('the owner node: read from any node; each node answers only for its own desktop; keys do not collide across nodes', async () => {
  const a = new RedisDesktopIds(fixture.redis, fixture.keys, 'node-a');
  const b = new RedisDesktopIds(fixture.other, fixture.keys, 'node-b');
  await append('w1', 'w2');
  await a.rememberDesktopId('windows', '42', 'w1');
  await b.rememberDesktopId('windows', '42', 'w2'); // record 42 on B's PC is another notification
  expect(await b.ownerOf('w1')).toEqual({ nodeId: 'node-a', source: 'windows', key: '42' });
  expect(await a.ownerOf('w2')).toEqual({ nodeId: 'node-b', source: 'windows', key: '42' });
  expect(await b.ownerOf('nothing')).toBeUndefined();
  expect(await a.notificationForDesktopKey('windows', '42')).toBe('w1');
  expect(await b.notificationForDesktopKey('windows', '42')).toBe('w2');
  // B's sources cannot close A's notification on B's desktop: they are told nothing about it.
  expect(await b.desktopKeyOf('windows', 'w1')).toBeUndefined();
  expect(await a.desktopKeyOf('windows', 'w1')).toBe('42');
});

test("a mapping expires with its notification's id claim", async () => {
  const ids = new RedisDesktopIds(fixture.redis, fixture.keys, 'node-a');
  await append('t1');
  await ids.rememberDesktopId('dbus', 'k1', 't1');
  const claim = await fixture.redis.pttl(fixture.keys.id('t1'));
  const mapping = await fixture.redis.pttl(fixture.keys.desktopOwner('t1'));
  expect(mapping).toBeGreaterThan(0);
  expect(mapping).toBeLessThanOrEqual(claim);
  expect(claim - mapping).toBeLessThan(5_000);
});

test('mappings survive a redis-server restart (appendonly, fsync always)', async () => {
  const ids = new RedisDesktopIds(fixture.redis, fixture.keys, 'node-a');
  await append('r1');
  await ids.rememberDesktopId('dbus', 'kept', 'r1');
  await fixture.server.kill9();
  await fixture.server.restart();
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && (await fixture.redis.ping().catch(() => null)) !== 'PONG') await new Promise((r) => setTimeout(r, 100));
  expect(await ids.notificationForDesktopKey('dbus', 'kept')).toBe('r1');
  expect(await ids.ownerOf('r1')).toEqual({ nodeId: 'node-a', source: 'dbus', key: 'kept' });
});
