import type { DeliveryStore } from '../delivery/ports';
import type { ScheduleStore } from '../schedule/scheduler';
import type { Store } from '../store/store';
import type { RelayStorage } from './relay';

// The one switch between the embedded store (SQLite) and cluster mode (Redis): every store port
// the daemon hands out comes from here, one line each. A port with a Redis implementation is
// taken from Redis in cluster mode; the others are still this node's SQLite, and are named in
// PORTS_STILL_LOCAL, which the daemon logs at start in cluster mode ("still on this node: …").
// When a Redis class lands, its line in `clusterPorts` changes and its name leaves the list.

/** A class's public surface (what a Redis implementation must offer to stand in for the SQLite one). */
type PublicOf<T> = Pick<T, keyof T>;

/** Every store port the daemon hands out. */
export interface StorePorts {
  outbox: RelayStorage['outbox'];
  delivery: DeliveryStore;
  scheduled: ScheduleStore;
  accounts: PublicOf<Store['accounts']>;
  deviceAdmin: PublicOf<Store['deviceAdmin']>;
  apiTokens: PublicOf<Store['apiTokens']>;
  desktopIds: PublicOf<Store['desktopIds']>;
  adminCredentials: PublicOf<Store['adminCredentials']>;
  history: PublicOf<Store['history']>;
  topicHistory: PublicOf<Store['topicHistory']>;
  audit: PublicOf<Store['audit']>;
  dataKeys: PublicOf<Store['dataKeys']>;
}

/** What cluster mode does not share yet (each node keeps its own): nothing today; a port whose Redis class is missing is named here. */
export const PORTS_STILL_LOCAL: readonly string[] = [];

/** The Redis ports built so far (composition/cluster.ts). */
export interface RedisPorts {
  outbox: RelayStorage['outbox'];
  delivery: DeliveryStore;
  accounts: StorePorts['accounts'];
  deviceAdmin: StorePorts['deviceAdmin'];
  apiTokens: StorePorts['apiTokens'];
  desktopIds: StorePorts['desktopIds'];
  adminCredentials: StorePorts['adminCredentials'];
  dataKeys: StorePorts['dataKeys'];
  history: StorePorts['history'];
  topicHistory: StorePorts['topicHistory'];
  scheduled: StorePorts['scheduled'];
  audit: StorePorts['audit'];
}

/** Embedded mode: every port on SQLite. */
export function embeddedPorts(db: Store): StorePorts {
  return {
    outbox: db.outbox,
    delivery: db.delivery,
    scheduled: db.scheduled,
    accounts: db.accounts,
    deviceAdmin: db.deviceAdmin,
    apiTokens: db.apiTokens,
    desktopIds: db.desktopIds,
    adminCredentials: db.adminCredentials,
    history: db.history,
    topicHistory: db.topicHistory,
    audit: db.audit,
    dataKeys: db.dataKeys,
  };
}

/**
 * Cluster mode: the shared ports on Redis. Every store port is there now; `_db` (this node's
 * SQLite, which still keeps what is node-local by nature: desktop read positions, attachment
 * files) stays a parameter so a port can be taken from it while its Redis class is missing.
 */
export function clusterPorts(_db: Store, redis: RedisPorts): StorePorts {
  return {
    outbox: redis.outbox,
    delivery: redis.delivery,
    scheduled: redis.scheduled,
    accounts: redis.accounts,
    deviceAdmin: redis.deviceAdmin,
    apiTokens: redis.apiTokens,
    desktopIds: redis.desktopIds,
    adminCredentials: redis.adminCredentials,
    history: redis.history,
    topicHistory: redis.topicHistory,
    audit: redis.audit,
    dataKeys: redis.dataKeys,
  };
}
