-- Tracking's own bookkeeping beside the shared journey tables of 002.

-- Per-link counters the links list reads without summing rollups.
CREATE TABLE link_counters (
  link_id         TEXT PRIMARY KEY,
  project_id      TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  clicks          INTEGER NOT NULL DEFAULT 0,
  last_clicked_at INTEGER
) WITHOUT ROWID;

-- Which visitors were already counted in context_stats_hourly.visitors for a UTC day and context.
-- Rows older than two days are deleted with the salts: they are only needed while a day is open.
CREATE TABLE counted_visitors (
  project_id  TEXT NOT NULL,
  day         TEXT NOT NULL,                   -- YYYY-MM-DD (UTC)
  visitor_id  TEXT NOT NULL,
  context_key TEXT NOT NULL,                   -- link|campaign|source|medium|content|lead
  PRIMARY KEY (project_id, day, visitor_id, context_key)
) WITHOUT ROWID;

CREATE INDEX clicks_visitor ON clicks(project_id, visitor_id);
