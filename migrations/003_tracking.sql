-- Tracking's own bookkeeping beside the shared journey tables of 002.

-- Per-link totals are read from the hourly rollup through this index (a rollup row is inserted
-- once per hour and context, then only its counters change, so the index costs a click nothing).
-- A separate counters table cost every click one more random page in its group commit.
CREATE INDEX context_stats_link ON context_stats_hourly(project_id, link_id);

-- Which visitors were already counted in context_stats_hourly.visitors for a UTC day and context.
-- Rows older than two days are deleted with the salts: they are only needed while a day is open.
CREATE TABLE counted_visitors (
  project_id  TEXT NOT NULL,
  day         TEXT NOT NULL,                   -- YYYY-MM-DD (UTC)
  visitor_id  TEXT NOT NULL,
  context_key TEXT NOT NULL,                   -- link|campaign|source|medium|content|lead
  PRIMARY KEY (project_id, day, visitor_id, context_key)
) WITHOUT ROWID;
