// Every default, named, with its unit and the reason for it (BRIEF.md, "Defaults").

/** LAN listener for phones: HTTPS/WSS. 2337 spells "BEEP" on a phone keypad, almost. */
export const GATEWAY_PORT = 2337;
/** Loopback listener for the CLI, scripts and dashboard. */
export const ADMIN_PORT = 2338;
/** Gateway binds every interface: phones are on the LAN. */
export const GATEWAY_HOST = '0.0.0.0';
/** Admin binds loopback only: it holds the keys to everything. */
export const ADMIN_HOST = '127.0.0.1';

/** ms: the longest a notification waits for company while a device's frames are unacknowledged (never when none are): a cap, not a wait. */
export const BATCH_WINDOW_MS = 25;
/** notifications per batch: one socket.io frame stays well under 1 MiB at 64 × (4 KiB body + fields). */
export const MAX_BATCH = 64;
/** batches a device may hold unacknowledged: bounds memory per slow phone. */
export const MAX_IN_FLIGHT = 4;
/** ms without an ack before a batch is presumed lost and sent again. */
export const REDELIVER_AFTER_MS = 10_000;
/** ms: delivery's timers (redelivery deadlines, the batch cap) fire on this grid, from one real timer for every device. */
export const DELIVERY_TIMER_TICK_MS = 5;
/**
 * devices served per turn when one notification fans out; between turns acks and /health get
 * theirs. Offering a notification to a device and writing its frame costs some 25-30 µs of the
 * daemon's core (profile of the bench's 1000-phone latency phase), so a turn is about 1 ms of
 * work. It was 128 (about 4 ms): in single runs of that phase (20 posts/s, server pinned to one
 * core, runs alternated), p50 post->phone was 50-75 ms in 10 runs with slices of 8, 16 and 32
 * against 78-100 ms in 6 runs with 128. The price is at 100 phones, where a fan-out now takes four
 * turns and frames gather less (23-24 notifications a frame against 28-31): fan-out rate 3 % lower
 * (medians of three alternated pairs); at 1000 phones it was no lower.
 */
export const FANOUT_SLICE_DEVICES = 32;
/**
 * notifications one device's session holds in memory (in flight plus queued): two pages of 4 × 64;
 * a backlog of any size stays in the store and is read a page at a time. Delivery raises it to two
 * windows (2 × queue.maxBatch × queue.maxInFlight) when the queue settings make a window larger.
 */
export const DELIVERY_MAX_HELD = 512;
/** ms between coalesced progress writes: every device acked or told of a dismissal within it is written in one commit; a kill -9 resends at most this window's acks. */
export const PROGRESS_SAVE_INTERVAL_MS = 200;
/** devices per progress commit at most: a thousand phones' coalesced write is ten short commits on turns of their own (about 2 ms each), not one 20 ms stall. */
export const PROGRESS_SAVE_CHUNK_DEVICES = 100;
/** dismissals read (and sent as one `dismissed` event) per page when a device catches up on what it missed. */
export const DISMISS_CATCH_UP_PAGE = 512;

/** Group commit: at most this many requests share one transaction. */
export const GROUP_COMMIT_MAX_OPS = 512;
/** ms a commit may wait for company, only while writes arrive more often than once per this (a lone one commits on the next turn); 0 = only what arrived in the same event-loop turn. */
export const GROUP_COMMIT_WINDOW_MS = 1;
/** Read-only worker connections for queries that could stall the event loop. */
export const READ_POOL_SIZE = 2;
/**
 * s a read worker may sit idle before it ends (each holds ~4.5 MB resident): the audit check at
 * start or a dashboard glance does not keep one for good; a busy phase keeps its workers.
 */
export const READ_POOL_IDLE_SEC = 5;
/**
 * ms a write waits for a write lock another process holds (a sqlite3 shell, a backup tool)
 * before its request is answered 503 not_accepted: the main thread never waits; a timer retries.
 */
export const STORE_LOCK_WAIT_MS = 5_000;
/**
 * writes that may wait at once for the database (while another process holds its lock); one
 * more is refused at once with 503 not_accepted. 1000 posts of at most 64 KiB bound the wait at 64 MB.
 */
export const STORE_MAX_QUEUED_WRITES = 1_000;
/** days of history (and of undelivered notifications) kept. */
export const RETENTION_DAYS = 7;

/** seconds an access token lives: short, since only the refresh token is revocable at rest. */
export const ACCESS_TOKEN_TTL_SEC = 15 * 60;
/** days a refresh token lives unused. */
export const REFRESH_TOKEN_TTL_DAYS = 30;
/** seconds a pairing code is valid: the time to pick up a phone and scan. */
export const PAIRING_CODE_TTL_SEC = 5 * 60;
/** hours of recent history a newly paired phone may be shown, when the person asks for it (ntfy's cache is 12 h). */
export const PAIRING_HISTORY_HOURS = 12;
/** notifications at most in that history: a screenful or two, one frame well under the socket's budget. */
export const PAIRING_HISTORY_MAX = 100;
/** pairing attempts per IP per window: 8 digits × 5 tries leaves a guess at 1 in 20 million. */
export const PAIRING_ATTEMPTS = 5;
/** seconds of the pairing attempts window. */
export const PAIRING_WINDOW_SEC = 15 * 60;

/** days before expiry the server certificate is reissued: a month of margin for a rarely restarted daemon. */
export const CERT_RENEW_BEFORE_DAYS = 30;
/** ms between certificate expiry checks while running: daily. */
export const CERT_CHECK_INTERVAL_MS = 24 * 60 * 60 * 1000;
/** ms between looks at the interface addresses (cheap): a new LAN address gets a cert within a minute. */
export const ADDRESS_POLL_MS = 60_000;

/** days a token signing key signs before a new one takes over; the old one verifies until its tokens expire. */
export const SIGNING_KEY_ROTATION_DAYS = 30;
/** refresh-token families (sessions) a device may hold; the oldest is dropped past it. */
export const MAX_SESSIONS_PER_DEVICE = 5;

/** gateway requests per IP per minute (BRIEF.md). */
export const GATEWAY_REQUESTS_PER_IP_PER_MIN = 100;
/**
 * static phone-app files (html, css, modules, icons) per IP per minute: one app load is ~30
 * files, so the API budget above would lock a phone out after a few reloads; files are cheap.
 */
export const GATEWAY_STATIC_PER_IP_PER_MIN = 1_200;
/** requests and socket events per device per minute (BRIEF.md). */
export const DEVICE_REQUESTS_PER_MIN = 500;
/** token refreshes per IP per minute: a phone needs one per 15 min. */
export const TOKEN_REFRESHES_PER_IP_PER_MIN = 20;
/** failed attempts with one pairing code value, from any IP, per pairing window. */
export const PAIRING_ATTEMPTS_PER_CODE = 5;
/** refused requests in a row that get an IP blocked (BRIEF.md). */
export const BLOCK_AFTER_VIOLATIONS = 10;
/** seconds an IP stays blocked after that (BRIEF.md: 15 min). */
export const BLOCK_DURATION_SEC = 15 * 60;
/** socket events per second a device may send (dismisses are human-paced), and the burst allowed. */
export const SOCKET_EVENTS_PER_SEC = 10;
export const SOCKET_EVENT_BURST = 30;
/** events refused in a row before a flooding socket is disconnected. */
export const SOCKET_FLOOD_DISCONNECT_AFTER = 100;
/**
 * connections one address may hold open on the gateway at once: a phone holds one socket and a
 * few HTTPS connections, a browser six per origin; a few hundred idle ones are an attack.
 */
export const GATEWAY_CONNECTIONS_PER_ADDRESS = 64;
/**
 * new gateway connections per second per address, sustained, and the burst allowed: each costs
 * a TLS handshake (a private-key operation); a phone opens a handful, a flood fills a core.
 */
export const GATEWAY_CONNECTIONS_PER_SEC = 10;
export const GATEWAY_CONNECTION_BURST = 100;
/** ms a client has to send a request's headers (slowloris); Node's own default is 60 s. */
export const HEADERS_TIMEOUT_MS = 10_000;
/** ms a client has to send a whole request (headers and a body of at most 64 KiB); Node's default is 5 min. */
export const REQUEST_TIMEOUT_MS = 30_000;
/** ms an idle keep-alive connection is kept for the client's next request. */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** ms a balancer has to send its whole PROXY header after connecting: it sends it at once, so a silent one is a slowloris. */
export const PROXY_HEADER_TIMEOUT_MS = 3_000;
/** balancer entries in gateway.proxyProtocol.from: a handful of addresses or ranges, not a list to search. */
export const PROXY_PROTOCOL_MAX_BALANCERS = 64;
/** ms during which refused PROXY headers from one address are logged once (the metric counts each). */
export const PROXY_REFUSAL_LOG_WINDOW_MS = 60_000;
/** ms a client has to complete the TLS handshake; Node's own default is 2 min. */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;
/** ms between the server's checks of the header and request timeouts (their granularity). */
export const CONNECTION_CHECK_MS = 1_000;
/** ms an engine.io connection may stay without joining /device (authenticating) before it is closed. */
export const SOCKET_AUTH_TIMEOUT_MS = 4_000;

/** notifications re-encrypted per transaction during a key rotation: small enough not to stall ingest. */
export const KEY_ROTATION_BATCH = 200;

/** bytes: PROTOCOL.md limits. */
export const MAX_TITLE_BYTES = 256;
export const MAX_BODY_BYTES = 4096;
export const MAX_REQUEST_BYTES = 64 * 1024;

/** MB a log file may reach before it is rotated: a month of `info` on a busy PC. */
export const LOG_FILE_MAX_MB = 10;
/** rotated log files kept (the oldest is deleted): bounds the logs folder at ~50 MB. */
export const LOG_FILES_KEPT = 5;

/** ms a health check may take before it counts as down. */
export const HEALTH_CHECK_TIMEOUT_MS = 5_000;
/** ms a detailed health report is reused: scrapers and dashboards may poll freely. */
export const HEALTH_CACHE_TTL_MS = 30_000;

/** ms between memory samples: often enough to see a leak within 30 s. */
export const MEMORY_SAMPLE_INTERVAL_MS = 2_000;
/**
 * MB of RSS past which health is degraded. Measured (README, "Memory"): idle ~91 MB 10 s after
 * start (no read worker, none of the modules only some commands need); 10 phones and 50 posts/s
 * peak at ~135 MB; 100 phones and 20 posts/s (2,000 deliveries/s) at ~152 MB. 192 leaves a
 * quarter above the heaviest of those, so ordinary load never reads as degraded.
 */
export const MEMORY_SOFT_LIMIT_MB = 192;
/** MB of RSS past which the memory check is down: 3.5 times the idle footprint, twice the heavy load above. */
export const MEMORY_HARD_LIMIT_MB = 320;
/** MB the post-GC heap floor must climb, window after window, to be called a leak. */
export const MEMORY_LEAK_GROWTH_MB = 8;

/** s between dashboard chart points; an hour of them is kept in memory (360 points). */
export const STATS_INTERVAL_SEC = 10;
/**
 * Devices the dashboard's live feed lists by name per notification: more than a household or a
 * team pairs, and as many as a row of pills shows. Past it a notification's other devices are
 * counted, so a relay to 1000 phones keeps neither 1000 objects per entry nor 1000 pills.
 */
export const FEED_DEVICES_LISTED = 48;
/** s the dashboard history covers. */
export const STATS_SPAN_SEC = 3_600;
/** s a one-time dashboard login link is valid. */
export const DASHBOARD_LOGIN_TTL_SEC = 60;
/** s a dashboard session lives without use. */
export const DASHBOARD_SESSION_IDLE_SEC = 12 * 3_600;

/** ms SIGTERM may take before the daemon exits anyway (PROTOCOL.md: within 5 s). */
export const SHUTDOWN_GRACE_MS = 4_000;
/**
 * ms a stop waits for the requests whose headers were read to be answered (their bodies to
 * arrive, their commits to run) before it answers the rest 503: leaves SHUTDOWN_GRACE_MS
 * room to close the store and the sockets.
 */
export const SHUTDOWN_DRAIN_MS = 2_500;

/** seconds between attempts to (re)attach to the session bus: quick to notice a login, cheap when idle. */
export const DBUS_RETRY_SEC = 2;
/** seconds between reads of the macOS notification database: new rows show up within this. */
export const MACOS_POLL_SEC = 2;
/** seconds between reads of the Windows notification database: a toast reaches the phones within this. */
export const WINDOWS_POLL_SEC = 2;
/** seconds a burst window lasts by default, once burst folding is switched on. */
export const BURST_WINDOW_SEC = 10;
/** Keyword rules, globs per list and quiet-hour windows a rules document may hold: keeps PUT bounded. */
export const MAX_RULE_ITEMS = 50;

/** seconds between ntfy keepalive events on an idle subscription: ntfy's own default. */
export const NTFY_KEEPALIVE_SEC = 45;
/** seconds between WebSocket pings on a Gotify /stream: Gotify's own period. */
export const GOTIFY_PING_SEC = 45;
/** ms a closed subscriber stream (token revoked, shutdown) has to flush its tail before it is cut: a reader that stopped reading never finishes. */
export const STREAM_END_GRACE_MS = 5_000;
/** bytes a subscriber stream may have written and not yet flushed before it counts as full: ~15 full-size messages; a reader that keeps up never gets near it. */
export const STREAM_HIGH_WATER_BYTES = 64 * 1024;
/** seconds a subscriber stream may stay full (its reader not reading) before it is closed: longer than a phone's Wi-Fi hiccup, shorter than a stuck one. */
export const STALLED_STREAM_CLOSE_SEC = 60;
/** notifications read from history per page while a subscriber catches up (since=, or after falling behind): ~400 KB at most. */
export const STREAM_BACKLOG_PAGE = 100;
/** live arrivals held per subscriber while it catches up; past it, history is read again instead. */
export const STREAM_MAX_HELD = 256;
/** subscriber streams (ntfy json/sse/raw/ws and polls, Gotify /stream) one API token may hold open: a phone or script needs one, a few devices sharing a token a few. */
export const STREAMS_PER_TOKEN = 10;
/** subscriber streams one client address may hold open: ntfy's own per-visitor subscription limit. */
export const STREAMS_PER_ADDRESS = 30;
/** seconds a client refused a stream is told to wait (Retry-After): slots free when its other streams end. */
export const STREAM_RETRY_AFTER_SEC = 30;
/** seconds a scheduled ntfy message must lie ahead at least: ntfy's own minimum (10 s), so a clock skew never delivers "delayed" ones at once. */
export const NTFY_MIN_DELAY_SEC = 10;
/** seconds a scheduled ntfy message may lie ahead at most: ntfy's own maximum (3 days). */
export const NTFY_MAX_DELAY_SEC = 3 * 86_400;
/** ms between retries when a due scheduled message could not be handed on (the store was busy): soon, without spinning. */
export const SCHEDULE_RETRY_MS = 1_000;
/** scheduled messages released per store read when many fall due at once (a restart after days): bounded memory. */
export const SCHEDULE_RELEASE_PAGE = 100;
/** bytes an ntfy or Gotify publish body may have, read only after its token is checked: one notification (4 KiB message, 256 B title) fits even escaped byte by byte (JSON \u00XX: six bytes each). */
export const COMPAT_PUBLISH_BODY_BYTES = 32 * 1024;
/** bytes of any other ntfy/Gotify JSON body (a Gotify client's name), read after authentication: as small as Beep's own gateway JSON. */
export const COMPAT_SMALL_BODY_BYTES = 4 * 1024;
/** notifications one page of a Gotify bulk delete (DELETE /message, an application's) dismisses together, one group commit: a tenth of the writer's queue, so other writes still get in. */
export const GOTIFY_DELETE_PAGE = 100;
/** requests per minute one API token may make: a busy script, not a flood. */
export const TOKEN_REQUESTS_PER_MINUTE = 600;
/** failed API-token attempts per IP per window before it is refused: guessing 256 bits is hopeless anyway. */
export const TOKEN_FAILURES = 10;
/** seconds of the failed API-token attempts window. */
export const TOKEN_FAILURE_WINDOW_SEC = 15 * 60;

/** days the audit log keeps an entry: seven years, a common retention for security records. */
export const AUDIT_RETENTION_DAYS = 7 * 365;
/** seconds of one failure window: wrong credentials from one address become one audit entry (with a count) per window. */
export const AUDIT_FAILURE_WINDOW_SEC = 10 * 60;
/** failure windows open at once (address × kind); past it the oldest is written early: bounds memory under a spray from many addresses. */
export const AUDIT_MAX_OPEN_WINDOWS = 10_000;
/** ms between audit maintenance runs (verify the chain, prune past retention, compact the checkpoint file): four a day. */
export const AUDIT_MAINTENANCE_INTERVAL_MS = 6 * 60 * 60 * 1000;
/** bytes past which a verified audit checkpoint file is compacted to its last head (~12,000 heads). */
export const AUDIT_CHECKPOINT_COMPACT_BYTES = 1024 * 1024;
/** milliseconds the daemon waits for an ntfy http action's answer (connect included) before telling the phone it timed out: ntfy's Android app gives up after about as long. */
export const HTTP_ACTION_TIMEOUT_MS = 10_000;
/** bytes of an http action's answer the daemon reads (the rest is dropped and the result marked truncated): enough for a status page, never a download. */
export const HTTP_ACTION_MAX_RESPONSE_BYTES = 64 * 1024;
/** characters of an http action's answer the phone is shown. */
export const HTTP_ACTION_RESULT_CHARS = 1024;
/** http actions one device may have in flight at once: a person taps one at a time; more is a looping client holding the PC's sockets. */
export const HTTP_ACTIONS_IN_FLIGHT_PER_DEVICE = 4;

/** bytes one attachment file may have: ntfy's own attachment-file-size-limit (15M), a phone photo or a log bundle. */
export const ATTACHMENT_MAX_FILE_BYTES = 15 * 1024 * 1024;
/**
 * bytes every stored attachment may take together: ntfy's server default is 5G shared by every
 * visitor of a public server (100M each); one user's PC keeps 1 GiB, ~68 full-size files.
 */
export const ATTACHMENT_MAX_TOTAL_BYTES = 1024 * 1024 * 1024;
/**
 * seconds an attachment file is kept: ntfy keeps 3 h, but Beep holds notifications until a
 * phone comes back, and a phone away for the evening would find every file of the afternoon
 * gone; a day covers that while the total quota bounds the disk.
 */
export const ATTACHMENT_EXPIRY_SEC = 24 * 60 * 60;
/** seconds a signed attachment link is valid: a link is a credential in a URL, so short; every read of the notification gets a fresh one. */
export const ATTACHMENT_LINK_SEC = 60 * 60;
/** seconds between sweeps of expired and orphaned attachment files: a file outlives its expiry by at most this. */
export const ATTACHMENT_SWEEP_SEC = 60;

/** Cluster mode ([cluster]): every key Beep writes in Redis starts with this, so one Redis can hold other data (or two clusters) without collisions. */
export const REDIS_KEY_PREFIX = 'beep:';
/** ms a Redis command may take before it fails: a post is answered 503 instead of hanging while Redis is unreachable (the offline queue is off). */
export const REDIS_COMMAND_TIMEOUT_MS = 2_000;
/** ms to open the connection at start before the daemon gives up with a clear message. */
export const REDIS_CONNECT_TIMEOUT_MS = 5_000;
/** retries of one command across a reconnect: one, so a command never waits for more than a reconnect while Redis is down. */
export const REDIS_MAX_RETRIES_PER_REQUEST = 1;
/** ms the outbox reader's XREAD blocks before it asks again; its own connection's command timeout must be above it (RedisConnection.duplicate). */
export const REDIS_READ_BLOCK_MS = 1_000;
/** entries one outbox read returns at most: a page of stream entries decoded at once. */
export const REDIS_READ_COUNT = 256;
/** ms a device's lease lives in Redis unless its node renews it (Redis' TTL, never a node's clock): a node paused longer loses its devices' progress writes. */
export const DEVICE_LEASE_TTL_MS = 15_000;
/** entries a cluster history read asks Redis for per step (a page scans in steps of this, never a whole topic). */
export const REDIS_HISTORY_SCAN_PAGE = 200;
/** ms a node's claim on a due scheduled notification lasts; past it another node releases it (the outbox id dedupes). */
export const SCHEDULE_CLAIM_MS = 30_000;
/** ms a cluster lease (`keys rotate`, signing-key rotation) lasts unless renewed. */
export const CLUSTER_LEASE_TTL_MS = 30_000;
/** ms a new JWT signing key waits in Redis before a node signs with it: every node reloads the ring sooner, so it verifies first. */
export const SIGNING_KEY_ACTIVATION_MS = 120_000;
/** entries retention deletes per Redis command (bounded work per call). */
export const REDIS_TRIM_BATCH = 500;
/** ms a rotation's new data key waits in Redis before a node seals with it: every node reloads the ring sooner, so it opens first. */
export const DATA_KEY_ACTIVATION_MS = 120_000;
/** ms between a node's reloads of the cluster's data-key and signing-key rings (well under both activation delays). */
export const TRUST_REFRESH_MS = 30_000;
/** ms between a cluster node's heartbeats in the node registry (`beep status`, the dashboard's node list). */
export const NODE_HEARTBEAT_MS = 5_000;
/** ms a node's registry record lives without a heartbeat: three missed beats and it leaves the list. */
export const NODE_HEARTBEAT_TTL_MS = 15_000;
/** ms the socket.io Redis Streams adapter's XREAD blocks: below REDIS_COMMAND_TIMEOUT_MS, which its connection (a duplicate of the main one) keeps. */
export const REDIS_ADAPTER_BLOCK_MS = 1_000;
/** control events the adapter's stream keeps (approximate MAXLEN): they are read within a second; this only bounds memory. */
export const REDIS_ADAPTER_MAX_LEN = 10_000;
/** ms between a cluster node's checks that the dashboard sessions its live feeds hang on are still in Redis (idle expiry, a missed logout event): a feed outlives its session by at most this. */
export const DASHBOARD_SESSION_SWEEP_MS = 30_000;
