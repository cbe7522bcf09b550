-- Desktop capture: an update names what it replaces; a captured notification keeps its icon.
ALTER TABLE notifications ADD COLUMN replaces TEXT;
ALTER TABLE notifications ADD COLUMN icon TEXT;

-- Which desktop notification a captured one is, so closes travel both ways. The desktop id is
-- only unique per notification server instance: the key holds the bus id and the server's
-- unique connection name too. Rows go with their notification (retention).
CREATE TABLE desktop_notifications (
  notification_id TEXT    PRIMARY KEY REFERENCES notifications (id) ON DELETE CASCADE,
  source          TEXT    NOT NULL,   -- 'dbus'
  desktop_key     TEXT    NOT NULL,   -- '<bus id>/<server unique name>/<desktop id>'
  created_ms      INTEGER NOT NULL
);
CREATE INDEX desktop_notifications_key ON desktop_notifications (source, desktop_key);
