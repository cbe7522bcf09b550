-- Scheduled delivery (ntfy Delay/At/In, issue 13): accepted now, kept here until due, then
-- appended to the outbox like any accepted notification, so it gets its seq only then and no
-- device's watermark waits days behind it. The whole notification is one seal whose associated
-- data names the row ("scheduled:<id>"); topic and token are plain for the list and the revoke.
CREATE TABLE scheduled_notifications (
  id         TEXT    PRIMARY KEY,        -- the public id it carries once delivered
  due_ms     INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  topic      TEXT,
  token_id   INTEGER,
  sealed     TEXT    NOT NULL
);
CREATE INDEX scheduled_notifications_due ON scheduled_notifications (due_ms);

-- ntfy `Cache: no`: stored like any notification, but owed only to the devices connected when it
-- was accepted (listed here), kept out of every history, and deleted once they have settled it.
CREATE TABLE uncached_notifications (
  seq INTEGER PRIMARY KEY REFERENCES notifications (seq) ON DELETE CASCADE
);
CREATE TABLE uncached_owed (
  seq       INTEGER NOT NULL REFERENCES uncached_notifications (seq) ON DELETE CASCADE,
  device_id TEXT    NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  PRIMARY KEY (seq, device_id)
) WITHOUT ROWID;
CREATE INDEX uncached_owed_device ON uncached_owed (device_id);
