import { clusterPorts, embeddedPorts, PORTS_STILL_LOCAL, type RedisPorts, type StorePorts } from '../../../app/composition/ports';
import type { Store } from '../../../app/store/store';

// The one switch between SQLite and Redis ports says the truth: embedded mode hands out every
// SQLite port; in cluster mode a port is named in PORTS_STILL_LOCAL exactly when it is still the
// node's own (the SQLite one), so the start-up
// line "still on this node: …" can never claim a port is shared when it is not, or the reverse.

/** A stand-in store whose every port is a distinct, named object. */
function fakeStore(): Store {
  const names = ['outbox', 'delivery', 'scheduled', 'accounts', 'deviceAdmin', 'apiTokens', 'desktopIds', 'adminCredentials', 'history', 'topicHistory', 'audit', 'dataKeys'];
  return Object.fromEntries(names.map((n) => [n, { port: n }])) as unknown as Store;
}

test('embedded mode: every port is the SQLite one', () => {
  const db = fakeStore();
  const ports = embeddedPorts(db);
  for (const [name, port] of Object.entries(ports)) expect(port).toBe((db as unknown as Record<string, unknown>)[name]);
});

/** Every Redis port a node builds (composition/cluster.ts), each a distinct object. */
function fakeRedis(): RedisPorts {
  const names = ['outbox', 'delivery', 'accounts', 'deviceAdmin', 'apiTokens', 'desktopIds', 'adminCredentials', 'dataKeys', 'history', 'topicHistory', 'scheduled', 'audit'];
  return Object.fromEntries(names.map((n) => [n, { redis: n }])) as unknown as RedisPorts;
}

test('cluster mode: PORTS_STILL_LOCAL names exactly the ports that are still this node\'s', () => {
  const db = fakeStore();
  const redis = fakeRedis();
  const ports = clusterPorts(db, redis);
  const dbPorts = db as unknown as Record<string, unknown>;
  for (const name of Object.keys(ports) as (keyof StorePorts)[]) {
    const local = ports[name] === dbPorts[name];
    const listed = PORTS_STILL_LOCAL.some((entry: string) => entry === name || entry.startsWith(`${name} `));
    expect({ port: name, local }).toEqual({ port: name, local: listed });
  }
});

test('cluster mode: every port taken from Redis is the node\'s own Redis object for it', () => {
  const redis = fakeRedis() as unknown as Record<string, unknown>;
  const ports = clusterPorts(fakeStore(), redis as unknown as RedisPorts) as unknown as Record<string, unknown>;
  for (const name of Object.keys(redis)) expect({ port: name, same: ports[name] === redis[name] }).toEqual({ port: name, same: true });
});
