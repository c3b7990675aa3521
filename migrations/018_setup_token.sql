-- The one-time token that opens first-start setup: printed by `serve` and `bantico setup-link`
-- while the instance has no owner, deleted when setup creates one.
CREATE TABLE setup_token (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  token      TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
