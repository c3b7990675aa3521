-- Projects, users and API keys: what every other capability hangs off.
CREATE TABLE projects (
  id                   TEXT PRIMARY KEY,
  name                 TEXT NOT NULL,
  token                TEXT NOT NULL UNIQUE,
  currency             TEXT NOT NULL DEFAULT 'USD',
  timezone             TEXT NOT NULL DEFAULT 'UTC',
  allowed_hostnames    TEXT NOT NULL DEFAULT '[]',
  lookback_days        INTEGER NOT NULL DEFAULT 90 CHECK (lookback_days > 0),
  pricing_path_pattern TEXT NOT NULL DEFAULT '/pricing*',
  created_at           INTEGER NOT NULL
);

CREATE TABLE users (
  id            TEXT PRIMARY KEY,
  email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
  password_hash TEXT NOT NULL,
  role          TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'viewer')),
  created_at    INTEGER NOT NULL
);

CREATE TABLE api_keys (
  id           TEXT PRIMARY KEY,
  project_id   TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name         TEXT NOT NULL DEFAULT '',
  prefix       TEXT NOT NULL,
  key_hash     TEXT NOT NULL UNIQUE,
  created_at   INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at   INTEGER
);
CREATE INDEX api_keys_project ON api_keys(project_id);
