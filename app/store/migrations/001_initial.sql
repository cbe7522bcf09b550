-- The outbox: one row per accepted notification; seq is the delivery order within a priority.
CREATE TABLE notifications (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  id           TEXT    NOT NULL UNIQUE,
  title        TEXT    NOT NULL,
  body         TEXT    NOT NULL,
  app          TEXT    NOT NULL,
  priority     INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 5),
  tags         TEXT    NOT NULL,            -- JSON array of strings
  url          TEXT,
  topic        TEXT,
  source       TEXT    NOT NULL,
  created_at   TEXT    NOT NULL,            -- ISO 8601, as on the wire
  created_ms   INTEGER NOT NULL,            -- the same instant, for retention and range queries
  dismissed_at TEXT
);
CREATE INDEX notifications_created_ms ON notifications (created_ms);

CREATE TABLE devices (
  id           TEXT    PRIMARY KEY,
  name         TEXT    NOT NULL,
  platform     TEXT    NOT NULL,
  paired_at    TEXT    NOT NULL,
  last_seen_at TEXT,
  revoked_at   TEXT,
  paired_seq   INTEGER NOT NULL,            -- notifications above this seq are owed to it
  token_gen    INTEGER NOT NULL DEFAULT 1   -- bumped to invalidate every access token at once
);

-- Per-device progress: a watermark (every seq at or below it is settled) plus the few seqs
-- acknowledged above it, since a higher priority overtakes. Never a row per notification.
CREATE TABLE device_progress (
  device_id      TEXT    PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
  watermark      INTEGER NOT NULL,
  acked_above    TEXT    NOT NULL DEFAULT '[]',   -- JSON array of seqs > watermark
  dismiss_cursor INTEGER NOT NULL DEFAULT 0       -- last dismissals.seq this device was told
);

-- Dismissals in order, so a device that was away learns which ones it missed.
CREATE TABLE dismissals (
  seq             INTEGER PRIMARY KEY AUTOINCREMENT,
  notification_id TEXT    NOT NULL,
  by_device       TEXT,
  at_ms           INTEGER NOT NULL
);

CREATE TABLE refresh_tokens (
  hash       TEXT    PRIMARY KEY,             -- SHA-256 of the opaque token; the token is never stored
  device_id  TEXT    NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  family     TEXT    NOT NULL,                -- one family per pairing; rotation stays inside it
  created_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL,
  used_ms    INTEGER
);
CREATE INDEX refresh_tokens_device ON refresh_tokens (device_id);

CREATE TABLE pairing_codes (
  hash       TEXT    PRIMARY KEY,             -- SHA-256 of the one-time code
  created_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL,
  used_ms    INTEGER
);
