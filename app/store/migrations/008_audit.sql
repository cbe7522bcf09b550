-- A keyed audit chain (issue 11): each entry's MAC (HMAC-SHA-256 under keys/audit.key) covers the
-- previous entry's MAC and its own fields. Entries from before the key keep prev_hash/hash (the
-- old unkeyed chain); the daemon checks that chain once, then fills in their MACs (the only
-- update the trigger below allows) and records the upgrade as an `audit_chain_keyed` entry.
ALTER TABLE audit_log ADD COLUMN mac TEXT;

-- Where verification starts after retention pruned older entries: the last pruned entry's seq
-- and MAC, signed with the audit key (one row).
CREATE TABLE audit_anchor (
  id    INTEGER PRIMARY KEY CHECK (id = 1),
  seq   INTEGER NOT NULL,
  mac   TEXT    NOT NULL,
  sig   TEXT    NOT NULL,
  at_ms INTEGER NOT NULL
);

-- The triggers only stop mistakes (whoever can write the file can drop them); the MACs and the
-- checkpoint file are what detect tampering.
DROP TRIGGER audit_log_no_update;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN NOT (OLD.mac IS NULL AND NEW.mac IS NOT NULL AND NEW.seq = OLD.seq AND NEW.at_ms = OLD.at_ms
          AND NEW.event = OLD.event AND NEW.actor = OLD.actor AND NEW.details = OLD.details
          AND NEW.prev_hash = OLD.prev_hash AND NEW.hash = OLD.hash)
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
DROP TRIGGER audit_log_no_delete;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN OLD.seq > COALESCE((SELECT seq FROM audit_anchor WHERE id = 1), 0)
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

-- "Has this token's use been recorded today?" and the config fingerprint lookups.
CREATE INDEX audit_log_event_actor ON audit_log (event, actor, at_ms);
