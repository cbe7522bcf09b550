-- Trust (issue 3): the audit log, field-encryption keys and their rotation, the dashboard password.

-- Security events, append-only: each entry's hash covers the previous entry's hash, so an edit
-- or a deletion breaks the chain where it happened (`beep audit verify`).
CREATE TABLE audit_log (
  seq       INTEGER PRIMARY KEY AUTOINCREMENT,
  at_ms     INTEGER NOT NULL,
  event     TEXT    NOT NULL,
  actor     TEXT    NOT NULL,            -- 'admin', 'device:<id>', 'ip:<addr>', 'system'
  details   TEXT    NOT NULL,            -- JSON; never secrets or notification text
  prev_hash TEXT    NOT NULL,
  hash      TEXT    NOT NULL
);
CREATE INDEX audit_log_event ON audit_log (event);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

-- Data keys for AES-256-GCM field encryption, each wrapped (AES-256-GCM) under the master key.
-- The newest key encrypts; older ones decrypt until a rotation has moved every value off them.
CREATE TABLE data_keys (
  id         TEXT    PRIMARY KEY,
  wrapped    TEXT    NOT NULL,
  created_ms INTEGER NOT NULL
);

-- A data-key rotation in progress (at most one row): which key values move to, and how far it
-- got, saved in the same transaction as each batch so an interrupted rotation resumes exactly.
CREATE TABLE key_rotation (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  target_key  TEXT    NOT NULL,
  phase       TEXT    NOT NULL,          -- 'notifications', then 'devices', then 'admin'
  cursor      TEXT    NOT NULL,          -- last seq (notifications) or id (devices) re-encrypted
  done        INTEGER NOT NULL,
  total       INTEGER NOT NULL,
  started_ms  INTEGER NOT NULL
);

-- The optional dashboard password (bcrypt) and TOTP secret (encrypted), one row.
CREATE TABLE admin_credentials (
  id            INTEGER PRIMARY KEY CHECK (id = 1),
  password_hash TEXT    NOT NULL,
  totp_secret   TEXT,
  updated_ms    INTEGER NOT NULL
);
