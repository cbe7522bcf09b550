-- Recent history at pairing ([daily]): whether a pairing code may offer it (`beep pair
-- --no-history` makes one that may not), and for a device that asked for it, the oldest
-- creation time it is shown (NULL: nothing owed; cleared once sent).
ALTER TABLE pairing_codes ADD COLUMN offers_history INTEGER NOT NULL DEFAULT 1;
ALTER TABLE devices ADD COLUMN history_from_ms INTEGER;
