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

  /** Hash of a paired device: pairedSeq, revokedAt (absent while not revoked), topics (JSON, absent = every topic), lastSeenAt; and (device-accounts) name (sealed), platform, pairedAt, tokenGen, historyFromMs (absent = no history owed). */
  device(deviceId: string): string {
    return `${this.prefix}device:${deviceId}`;
  }

  /** Sorted set of the devices not revoked, scored by when they paired (ms, at least 1 more than the last listed): the admin list's order. */
  get devices(): string {
    return `${this.prefix}devices`;
  }

  /** Hash of a pairing code, by the SHA-256 of the code: h ('1' = may offer history); gone once used, expired by its TTL. */
  pairingCode(hash: string): string {
    return `${this.prefix}pairing:${hash}`;
  }

  /** Hash of a refresh token, by its SHA-256: d (device), f (family), c (created ms), e (expires ms, 0 = family revoked), u (used ms). */
  refreshToken(hash: string): string {
    return `${this.prefix}refresh:${hash}`;
  }

  /** Set of the token hashes of one refresh-token family (a pairing's line of rotations). */
  refreshFamily(family: string): string {
    return `${this.prefix}family:${family}`;
  }

  /** Sorted set of a device's live refresh-token families, scored by when each started (ms): the session cap. */
  liveFamilies(deviceId: string): string {
    return `${this.prefix}families:${deviceId}`;
  }

  /** Set of a device's revoked families (kept for reuse detection until their tokens expire). */
  deadFamilies(deviceId: string): string {
    return `${this.prefix}dead-families:${deviceId}`;
  }

  /** The last API token id handed out (INCR). */
  get apiTokenSeq(): string {
    return `${this.prefix}api-token-seq`;
  }

  /** Hash of an API token (api-token-store fields); kept after revocation with revokedMs. */
  apiToken(id: number): string {
    return `${this.prefix}api-token:${id}`;
  }

  /** An API token's id by the SHA-256 of its secret (deleted when it is revoked). */
  apiTokenHash(hash: string): string {
    return `${this.prefix}api-token-hash:${hash}`;
  }

  /** Sorted set (score = member = id) of the API tokens not revoked. */
  get apiTokens(): string {
    return `${this.prefix}api-tokens`;
  }

  /** Set of the ids of the subscribe tokens (Gotify clients) created by token `id`: revoked with it. */
  apiTokenChildren(id: number): string {
    return `${this.prefix}api-token-children:${id}`;
  }

  /** Hash of a captured notification's desktop mapping: node (the node whose desktop showed it), source, key. */
  desktopOwner(notificationId: string): string {
    return `${this.prefix}desktop:${notificationId}`;
  }

  /** Sorted set of the notifications one node captured under a desktop key, scored by seq (newest wins). */
  desktopKey(nodeId: string, source: string, key: string): string {
    return `${this.prefix}desktop-key:${nodeId}:${source}:${key}`;
  }

  /** Hash of the dashboard password: passwordHash, totpSecret (sealed, absent = no second factor), updatedMs. */
  get adminCredentials(): string {
    return `${this.prefix}admin-credentials`;
  }

  /** A dashboard login nonce by its SHA-256 (expires by TTL; deleted when redeemed). */
  dashboardNonce(hash: string): string {
    return `${this.prefix}dash-nonce:${hash}`;
  }

  /** Sorted set of outstanding login nonce hashes, scored by creation (ms): the oldest go past the cap. */
  get dashboardNonces(): string {
    return `${this.prefix}dash-nonces`;
  }

  /** Hash of a dashboard session by the SHA-256 of its cookie value: csrf, expiresAt (ms); idle expiry by TTL. */
  dashboardSession(hash: string): string {
    return `${this.prefix}dash-session:${hash}`;
  }

  /** Sorted set of session hashes, scored by opening order: the oldest go past the cap; endAll ends them all. */
  get dashboardSessions(): string {
    return `${this.prefix}dash-sessions`;
  }

  /** The last dashboard session number handed out (INCR): the opening order of the sessions index. */
  get dashboardSessionSeq(): string {
    return `${this.prefix}dash-session-seq`;
  }

  /** The last TOTP step used to log in to the dashboard, with the secret's fingerprint: `<fingerprint> <step>`. */
  get totpStep(): string {
    return `${this.prefix}totp-step`;
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

  /** How many times the cluster's CA was rotated (`beep cert rotate-ca`), INCR'd in the script that replaces it. */
  get certificateAuthorityGeneration(): string {
    return `${this.prefix}trust:ca-generation`;
  }

  /** A secret every node must share (the audit key), sealed under the master key. */
  sharedSecret(name: string): string {
    return `${this.prefix}trust:secret:${name}`;
  }
}
