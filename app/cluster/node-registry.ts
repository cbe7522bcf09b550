import type Redis from 'ioredis';
import type { RedisKeys } from './redis-keys';

// Which nodes are in the cluster now, and which node holds each phone. Each node writes its
// record with Redis' TTL (PX) on every heartbeat, so a node that died or lost Redis disappears
// from the list by itself within one TTL; nobody's clock is compared. Which node holds a phone
// is read from the device's lease (device-leases.ts: `<epoch> <nodeId>`), the same key that
// fences its progress writes, so the list can never disagree with who may write.

/** One node as `beep status` and the dashboard show it. */
export interface NodeRecord {
  id: string;
  version: string;
  gatewayPort: number;
  adminPort: number;
  /** The URL phones reach this node's gateway by (gateway.publicUrl, or what its pairing links carry). */
  gatewayUrl: string;
  /** Phones connected to it at its last heartbeat. */
  devices: number;
  /** Their ids (what a `Cache: no` notification accepted on any node is owed to). */
  deviceIds: string[];
  startedAt: string;
  /** Its last heartbeat (its own clock; shown, never compared). */
  seenAt: string;
}

/** The registry's keys, under the cluster prefix (apart from redis-keys.ts, which the stores own). */
export function nodeKey(keys: RedisKeys, nodeId: string): string {
  return `${keys.prefix}node:${nodeId}`;
}

/** Set of every node id that ever announced itself (an id whose record expired is dropped when listed). */
export function nodesKey(keys: RedisKeys): string {
  return `${keys.prefix}nodes`;
}

/**
 * Set of every gateway origin a node of the cluster advertised. Kept when a node dies: a phone
 * page served by a node that is down must still reach the others (its origin stays allowed).
 */
export function gatewayOriginsKey(keys: RedisKeys): string {
  return `${keys.prefix}gateway-origins`;
}

/** A URL's origin, or null for a missing or malformed one. */
function originOf(url: string | undefined): string | null {
  try {
    return url ? new URL(url).origin : null;
  } catch {
    return null;
  }
}

/** Announces this node on a heartbeat and lists the others. */
export class NodeRegistry {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly nodeId: string,
    /** ms a record lives without a heartbeat (config/defaults.ts NODE_HEARTBEAT_TTL_MS). */
    private readonly ttlMs: number,
  ) {}

  /** Writes this node's record with its TTL (a heartbeat). */
  async beat(record: Omit<NodeRecord, 'id' | 'seenAt'>): Promise<void> {
    const value: NodeRecord = { id: this.nodeId, ...record, seenAt: new Date().toISOString() };
    const origin = originOf(record.gatewayUrl);
    const multi = this.redis.multi().set(nodeKey(this.keys, this.nodeId), JSON.stringify(value), 'PX', this.ttlMs).sadd(nodesKey(this.keys), this.nodeId);
    if (origin) multi.sadd(gatewayOriginsKey(this.keys), origin);
    await multi.exec();
  }

  /** Every gateway origin a node of the cluster advertised, alive or not. */
  async gatewayOrigins(): Promise<string[]> {
    return this.redis.smembers(gatewayOriginsKey(this.keys));
  }

  /** Removes this node's record (a clean stop). */
  async leave(): Promise<void> {
    await this.redis.multi().del(nodeKey(this.keys, this.nodeId)).srem(nodesKey(this.keys), this.nodeId).exec();
  }

  /** The nodes alive now (their record has not expired), sorted by id. */
  async list(): Promise<NodeRecord[]> {
    const ids = (await this.redis.smembers(nodesKey(this.keys))).sort();
    if (ids.length === 0) return [];
    const values = await this.redis.mget(ids.map((id) => nodeKey(this.keys, id)));
    const gone = ids.filter((_, i) => values[i] === null);
    if (gone.length > 0) await this.redis.srem(nodesKey(this.keys), ...gone);
    return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as NodeRecord);
  }

  /** deviceId → the node holding its lease now (a device held by no node is absent). */
  async holders(deviceIds: string[]): Promise<Map<string, string>> {
    const held = new Map<string, string>();
    if (deviceIds.length === 0) return held;
    const leases = await this.redis.mget(deviceIds.map((id) => this.keys.lease(id)));
    deviceIds.forEach((id, i) => {
      const lease = leases[i];
      // `<epoch> <nodeId>`
      if (lease) held.set(id, lease.slice(lease.indexOf(' ') + 1));
    });
    return held;
  }
}
