-- ntfy / Gotify compatibility: API tokens, a device's topic filter, and the two facts a
-- compat publisher gives that Beep's own fields cannot hold.

-- Publish and subscribe tokens for ntfy and Gotify clients. Only the SHA-256 of the token is
-- stored; the token is shown once. The integer id is also the Gotify application id.
CREATE TABLE api_tokens (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  hash         TEXT    NOT NULL UNIQUE,
  kind         TEXT    NOT NULL CHECK (kind IN ('publish', 'subscribe')),
  name         TEXT    NOT NULL,
  topics       TEXT,                        -- JSON array of topics; NULL = every topic
  created_ms   INTEGER NOT NULL,
  last_used_ms INTEGER,
  revoked_ms   INTEGER
);

-- A phone may choose topics (JSON array); NULL = every topic (protocol extension).
ALTER TABLE devices ADD COLUMN topics TEXT;

-- Markdown body (ntfy X-Markdown, Gotify client::display); a publisher that gave no title
-- (ntfy subscribers see none, phones see the topic); the API token that published it.
ALTER TABLE notifications ADD COLUMN markdown INTEGER NOT NULL DEFAULT 0;
ALTER TABLE notifications ADD COLUMN untitled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE notifications ADD COLUMN token_id INTEGER;
CREATE INDEX notifications_topic_seq ON notifications (topic, seq);
