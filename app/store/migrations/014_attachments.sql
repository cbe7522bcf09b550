-- Attachment files (ntfy's PUT with a filename, `beep send --file`): each file lives encrypted in
-- <data dir>/attachments/<id> (crypto/chunk-cipher.ts). Its name and type are private and live in
-- the notification's seal; this table holds only what quotas, expiry and key rotation need.
CREATE TABLE attachments (
  id              TEXT    PRIMARY KEY,   -- random, 128 bits: also the file's name
  notification_id TEXT,                  -- set in the notification's own transaction; NULL while uploading
  key_id          TEXT    NOT NULL,      -- the data key the file is sealed under (its header names it too)
  size            INTEGER NOT NULL,      -- plaintext bytes
  created_ms      INTEGER NOT NULL,
  expires_ms      INTEGER NOT NULL
);
CREATE INDEX attachments_expiry ON attachments (expires_ms);
CREATE INDEX attachments_notification ON attachments (notification_id);
