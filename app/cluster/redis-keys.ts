// Every Redis key cluster mode uses, in one place, each under the configured prefix. Lua
// scripts build the same names from the prefix (outbox-scripts.ts, progress-scripts.ts): a
// rename here must be made there too. Redis Cluster is refused, so keys need no hash tags.

/** The key layout of one cluster (its prefix, `beep:` by default). */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  /** The last notification seq handed out (INCR). */
  get seq(): string {
    return `${this.prefix}seq`;
  }

  /** The outbox stream: one entry per notification, id `<seq>-0`, fields p (priority), t (topic or ''), n (the sealed entry's JSON). */
  get outbox(): string {
    return `${this.prefix}outbox`;
  }

  /** A public id's seq; also the client-id claim, expiring with retention. */
  id(id: string): string {
    return `${this.prefix}id:${id}`;
  }

  /** Sorted set (score = member = seq) of the undismissed notifications of a priority that are owed to some device. */
  owed(priority: number): string {
    return `${this.prefix}owed:${priority}`;
  }

  /** The same, only the untopiced ones (owed counts with a topic filter). */
  owedUntopiced(priority: number): string {
    return `${this.prefix}owed:${priority}:u`;
  }

  /** The same, only those of one topic. */
  owedTopic(priority: number, topic: string): string {
    return `${this.prefix}owed:${priority}:t:${topic}`;
  }

  /** Sorted set of every cached notification's seq (admin history, Gotify lists). */
  get history(): string {
    return `${this.prefix}history`;
  }

  /** Sorted set of a topic's cached notifications (ntfy since=, the topic's history). */
  topic(topic: string): string {
    return `${this.prefix}topic:${topic}`;
  }

  /** Hash seq → when it was dismissed (ISO); present = dismissed (or replaced). */
  get dismissed(): string {
    return `${this.prefix}dismissed`;
  }

  /** Sorted set of the `Cache: no` notifications still owed to some device (their owedTo is in the entry). */
  get uncached(): string {
    return `${this.prefix}uncached`;
  }

  /** The last dismissal seq handed out (INCR), apart from notification seqs. */
  get dismissalSeq(): string {
    return `${this.prefix}dismissal-seq`;
  }

  /** Stream of dismissals, id `<dismissal seq>-0`, fields id (notification id), by (device id or ''), at (ms). */
  get dismissals(): string {
    return `${this.prefix}dismissals`;
  }

  /** Hash of a paired device: pairedSeq, revokedAt (absent while not revoked), topics (JSON, absent = every topic), lastSeenAt. */
  device(deviceId: string): string {
    return `${this.prefix}device:${deviceId}`;
  }

  /** Hash of a device's progress: w<p> (watermark), a<p> (JSON seqs acked above it) per priority, dc (dismissal cursor). */
  progress(deviceId: string): string {
    return `${this.prefix}progress:${deviceId}`;
  }

  /** A device's fencing epoch (INCR on every acquire; never expires). */
  epoch(deviceId: string): string {
    return `${this.prefix}epoch:${deviceId}`;
  }

  /** A device's lease: `<epoch> <nodeId>`, with Redis' TTL (PX). */
  lease(deviceId: string): string {
    return `${this.prefix}lease:${deviceId}`;
  }

  /** Sorted set of scheduled notification ids by when a node may take them next: the due time, or a claim's end. */
  get scheduledDue(): string {
    return `${this.prefix}sched:due`;
  }

  /** Sorted set of scheduled notification ids by their due time (what `list` shows). */
  get scheduledOrder(): string {
    return `${this.prefix}sched:order`;
  }

  /** Hash id → a scheduled notification's JSON (due, created, token id, the sealed input). */
  get scheduledEntries(): string {
    return `${this.prefix}sched:entries`;
  }

  /** Set of the scheduled ids an API token published (dropped with it). */
  scheduledByToken(tokenId: number | string): string {
    return `${this.prefix}sched:token:${tokenId}`;
  }

  /** A node's claim on a due scheduled notification: its token, with Redis' TTL (PX). */
  scheduledClaim(id: string): string {
    return `${this.prefix}sched:claim:${id}`;
  }

  /** The audit chain (one for the cluster): a stream, id `<seq>-0`, fields a (at ms), e (event), c (actor), d (details JSON), m (MAC). */
  get audit(): string {
    return `${this.prefix}audit`;
  }

  /** Hash: the audit chain's signed prune anchor (seq, mac, sig, at). */
  get auditAnchor(): string {
    return `${this.prefix}audit:anchor`;
  }

  /** Whose turn it is to write the audit chain after a lost race: a node's token, with Redis' TTL (audit-scripts.ts). */
  get auditTurn(): string {
    return `${this.prefix}audit:turn`;
  }

  /** Hash `<event> <actor>` → the newest at (ms) of the events recorded once a day (auditRecordedSince). */
  get auditDaily(): string {
    return `${this.prefix}audit:daily`;
  }

  /** Hash event → the newest entry's details (the last config fingerprint). */
  get auditLastDetails(): string {
    return `${this.prefix}audit:last-details`;
  }

  /** A cluster-wide lease (`keys rotate`, signing-key rotation): its holder's token, with Redis' TTL (PX). */
  clusterLease(name: string): string {
    return `${this.prefix}cluster-lease:${name}`;
  }

  /** A value sealed under the master key that proves a node was started with the cluster's master key. */
  get masterCheck(): string {
    return `${this.prefix}trust:master-check`;
  }

  /** Hash data-key id → JSON {wrapped (sealed under the master key), createdMs}. */
  get dataKeys(): string {
    return `${this.prefix}trust:data-keys`;
  }

  /** Hash createdMs → the JWT signing key's PKCS#8 PEM, sealed under the master key. */
  get signingKeys(): string {
    return `${this.prefix}trust:signing-keys`;
  }

  /** The cluster's CA (JSON {certPem, keyPem}) sealed under the master key. */
  get certificateAuthority(): string {
    return `${this.prefix}trust:ca`;
  }

  /** A secret every node must share (the audit key), sealed under the master key. */
  sharedSecret(name: string): string {
    return `${this.prefix}trust:secret:${name}`;
  }
}
