-- Where each polling desktop source (macOS, Windows) stopped reading its notification database,
-- so a restart neither re-sends old notifications nor skips new ones. The position is the
-- source's own text (sources/read-position.ts: the file, the highest row, the highest time).
CREATE TABLE source_positions (
  source     TEXT    PRIMARY KEY,   -- 'macos', 'windows'
  position   TEXT    NOT NULL,
  updated_ms INTEGER NOT NULL
);
