-- Progress per priority: a catch-up sends by priority, so it acks out of seq order; one watermark
-- plus "acked above" would grow with the backlog. Each priority keeps its own watermark (every
-- seq of that priority at or below it is settled) and the few seqs acked above it.
-- A device's old single watermark becomes every priority's watermark; its old acked-above seqs
-- go to the priority they belong to (those whose notification is gone are dropped).
-- device_progress keeps the dismissal cursor, and its watermark is the starting point of a
-- device paired later (its pairing seq), for the priorities it has no row of yet.
CREATE TABLE device_priority_progress (
  device_id   TEXT    NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  priority    INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 5),
  watermark   INTEGER NOT NULL,
  acked_above TEXT    NOT NULL DEFAULT '[]',   -- JSON array of seqs of this priority > watermark
  PRIMARY KEY (device_id, priority)
) WITHOUT ROWID;

INSERT INTO device_priority_progress (device_id, priority, watermark, acked_above)
SELECT p.device_id, pr.priority, p.watermark,
       COALESCE((SELECT json_group_array(j.value)
                   FROM json_each(p.acked_above) AS j
                   JOIN notifications AS n ON n.seq = j.value
                  WHERE n.priority = pr.priority), '[]')
  FROM device_progress AS p
 CROSS JOIN (SELECT 1 AS priority UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5) AS pr;

-- A device's backlog is read in pages by (priority, seq), undismissed only.
CREATE INDEX notifications_owed ON notifications (priority, seq) WHERE dismissed_at IS NULL;
