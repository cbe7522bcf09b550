-- One seal per notification row ([engine] item 6): the private fields (title, body, app, tags,
-- the click URL and the icon; later ones too) are one JSON object sealed once with AES-256-GCM,
-- its associated data naming the row. NULL = a row written before, in the four-seal format
-- (title, body, app and tags sealed one by one, url and icon in plaintext): still read as such,
-- and converted by the re-seal that runs after start (store/row-reseal.ts) or by a key rotation.
ALTER TABLE notifications ADD COLUMN sealed TEXT;

-- The rows still to convert, in order; new rows never enter it, so it empties as they go.
CREATE INDEX notifications_unsealed ON notifications (seq) WHERE sealed IS NULL;
