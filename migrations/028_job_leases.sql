-- Scheduled work that must run once however many nodes serve (payment pulls, the FX fetch, currency
-- re-conversions) takes a lease first: the node holding it, until expires_at, renewed while it works.
-- On SQLite the one node always holds its own; the table is what several PostgreSQL nodes share.
CREATE TABLE job_leases (
  name       TEXT PRIMARY KEY,
  holder     TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
