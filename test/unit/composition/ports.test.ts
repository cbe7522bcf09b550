import { clusterPorts, embeddedPorts, PORTS_STILL_LOCAL, type RedisPorts, type StorePorts } from '../../../app/composition/ports';
import type { Store } from '../../../app/store/store';

// The one switch between SQLite and Redis ports says the truth: embedded mode hands out every
// SQLite port; in cluster mode a port is named in PORTS_STILL_LOCAL exactly when it is still the
// node's own (the SQLite one, or the SQLite one wrapped by the device mirror), so the start-up
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

test('cluster mode: PORTS_STILL_LOCAL names exactly the ports that are still this node\'s', () => {
  const db = fakeStore();
  const mirrored = new Set<unknown>();
  const mirror = {
    accounts: (local: unknown) => (mirrored.add(local), { mirrorOf: local }),
    deviceAdmin: (local: unknown) => (mirrored.add(local), { mirrorOf: local }),
  };
  const redis = { outbox: { redis: 'outbox' }, delivery: { redis: 'delivery' }, mirror } as unknown as RedisPorts;
  const ports = clusterPorts(db, redis);
  const dbPorts = db as unknown as Record<string, unknown>;
  for (const name of Object.keys(ports) as (keyof StorePorts)[]) {
    const value = ports[name] as unknown as { mirrorOf?: unknown };
    const local = value === dbPorts[name] || (value.mirrorOf !== undefined && value.mirrorOf === dbPorts[name]);
    const listed = PORTS_STILL_LOCAL.some((entry) => entry === name || entry.startsWith(`${name} `));
    expect({ port: name, local }).toEqual({ port: name, local: listed });
  }
});
