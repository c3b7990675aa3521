-- Tracking's own bookkeeping beside the shared journey tables of 002.

-- Per-link totals the links list reads in one lookup per link (summing a link's hourly rollup
-- rows grows with its age). With traffic spread evenly over 10,000 links this costs a click one
-- more page in its group commit; real traffic concentrates on a few links, whose pages stay hot.
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
