-- Token rights ([harden] item 5): how each API token was created, so that only the Gotify
-- app's password login (and the clients it created) may manage Gotify clients, and so that a
-- client dies with the client that created it.

-- 'admin': `beep token create`, the admin API (every token created before this migration);
-- 'gotify_login': POST /client with the Gotify Basic login (the dashboard password);
-- 'gotify_client': POST /client with such a client's token (its parent).
ALTER TABLE api_tokens ADD COLUMN origin TEXT NOT NULL DEFAULT 'admin'
  CHECK (origin IN ('admin', 'gotify_login', 'gotify_client'));
ALTER TABLE api_tokens ADD COLUMN parent_id INTEGER REFERENCES api_tokens (id);
CREATE INDEX api_tokens_parent ON api_tokens (parent_id) WHERE parent_id IS NOT NULL;
