// Every default, named, with its unit and the reason for it (BRIEF.md, "Defaults").

/** LAN listener for phones: HTTPS/WSS. 2337 spells "BEEP" on a phone keypad, almost. */
export const GATEWAY_PORT = 2337;
/** Loopback listener for the CLI, scripts and dashboard. */
export const ADMIN_PORT = 2338;
/** Gateway binds every interface: phones are on the LAN. */
export const GATEWAY_HOST = '0.0.0.0';
/** Admin binds loopback only: it holds the keys to everything. */
export const ADMIN_HOST = '127.0.0.1';

/** ms: long enough to group a burst into one frame, short enough to feel instant. */
export const BATCH_WINDOW_MS = 25;
/** notifications per batch: one socket.io frame stays well under 1 MiB at 64 × (4 KiB body + fields). */
export const MAX_BATCH = 64;
/** batches a device may hold unacknowledged: bounds memory per slow phone. */
export const MAX_IN_FLIGHT = 4;
/** ms without an ack before a batch is presumed lost and sent again. */
export const REDELIVER_AFTER_MS = 10_000;

/** Group commit: at most this many requests share one transaction. */
export const GROUP_COMMIT_MAX_OPS = 512;
/** ms a commit may wait for company; 0 = only what arrived in the same event-loop turn. */
export const GROUP_COMMIT_WINDOW_MS = 1;
/** Read-only worker connections for queries that could stall the event loop. */
export const READ_POOL_SIZE = 2;
/** days of history (and of undelivered notifications) kept. */
export const RETENTION_DAYS = 7;

/** seconds an access token lives: short, since only the refresh token is revocable at rest. */
export const ACCESS_TOKEN_TTL_SEC = 15 * 60;
/** days a refresh token lives unused. */
export const REFRESH_TOKEN_TTL_DAYS = 30;
/** seconds a pairing code is valid: the time to pick up a phone and scan. */
export const PAIRING_CODE_TTL_SEC = 5 * 60;
/** pairing attempts per IP per window: 8 digits × 5 tries leaves a guess at 1 in 20 million. */
export const PAIRING_ATTEMPTS = 5;
/** seconds of the pairing attempts window. */
export const PAIRING_WINDOW_SEC = 15 * 60;

/** bytes: PROTOCOL.md limits. */
export const MAX_TITLE_BYTES = 256;
export const MAX_BODY_BYTES = 4096;
export const MAX_REQUEST_BYTES = 64 * 1024;

/** ms SIGTERM may take before the daemon exits anyway (PROTOCOL.md: within 5 s). */
export const SHUTDOWN_GRACE_MS = 4_000;

/** seconds between attempts to (re)attach to the session bus: quick to notice a login, cheap when idle. */
export const DBUS_RETRY_SEC = 2;
/** seconds between reads of the macOS notification database: new rows show up within this. */
export const MACOS_POLL_SEC = 2;
/** seconds a burst window lasts by default, once burst folding is switched on. */
export const BURST_WINDOW_SEC = 10;
/** Keyword rules, globs per list and quiet-hour windows a rules document may hold: keeps PUT bounded. */
export const MAX_RULE_ITEMS = 50;

/** seconds between ntfy keepalive events on an idle subscription: ntfy's own default. */
export const NTFY_KEEPALIVE_SEC = 45;
/** seconds between WebSocket pings on a Gotify /stream: Gotify's own period. */
export const GOTIFY_PING_SEC = 45;
/** requests per minute one API token may make: a busy script, not a flood. */
export const TOKEN_REQUESTS_PER_MINUTE = 600;
/** failed API-token attempts per IP per window before it is refused: guessing 256 bits is hopeless anyway. */
export const TOKEN_FAILURES = 10;
/** seconds of the failed API-token attempts window. */
export const TOKEN_FAILURE_WINDOW_SEC = 15 * 60;
