-- The visitor journey: tracked links and their clicks, sessions, events, identified profiles,
-- and the hourly rollup that reports read instead of raw events.
-- Attribution context columns (link_id, campaign_id, source, medium, content, lead_id) are NULL
-- when unknown, except in rollups where '' stands for "none" so they can be part of a key.

CREATE TABLE links (
  id              TEXT PRIMARY KEY,            -- linkId: stable, URL-safe
  project_id      TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  slug            TEXT NOT NULL UNIQUE,        -- unique per instance: /l/{slug}
  destination_url TEXT NOT NULL,
  campaign_id     TEXT,
  source          TEXT,
  medium          TEXT,
  content         TEXT,
  lead_id         TEXT,
  title           TEXT NOT NULL DEFAULT '',
  archived        INTEGER NOT NULL DEFAULT 0,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
);
CREATE INDEX links_project ON links(project_id, created_at);

CREATE TABLE campaigns (
  project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  campaign_id TEXT NOT NULL,
  name        TEXT NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (project_id, campaign_id)
) WITHOUT ROWID;

CREATE TABLE leads (
  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  lead_id    TEXT NOT NULL,
  name       TEXT,
  email      TEXT,
  company    TEXT,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (project_id, lead_id)
) WITHOUT ROWID;

CREATE TABLE clicks (
  id            TEXT PRIMARY KEY,              -- clickId, appended to the destination as bt_click
  project_id    TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  link_id       TEXT NOT NULL,
  ts            INTEGER NOT NULL,
  visitor_id    TEXT,                          -- known once the landing page reports bt_click
  referrer_host TEXT,
  browser       TEXT,
  os            TEXT,
  device        TEXT,
  country       TEXT
);
CREATE INDEX clicks_link_ts ON clicks(link_id, ts);
CREATE INDEX clicks_project_ts ON clicks(project_id, ts);

CREATE TABLE sessions (
  id            TEXT PRIMARY KEY,
  project_id    TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  visitor_id    TEXT NOT NULL,
  started_at    INTEGER NOT NULL,
  last_seen_at  INTEGER NOT NULL,
  -- the first attribution context the session saw
  click_id      TEXT,
  link_id       TEXT,
  campaign_id   TEXT,
  source        TEXT,
  medium        TEXT,
  content       TEXT,
  lead_id       TEXT,
  referrer_host TEXT,
  entry_path    TEXT,
  browser       TEXT,
  os            TEXT,
  device        TEXT,
  country       TEXT
);
CREATE INDEX sessions_visitor ON sessions(project_id, visitor_id, started_at);
CREATE INDEX sessions_project_started ON sessions(project_id, started_at);

CREATE TABLE events (
  id          INTEGER PRIMARY KEY,
  project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  ts          INTEGER NOT NULL,
  name        TEXT NOT NULL,
  visitor_id  TEXT,
  session_id  TEXT,
  profile_id  TEXT,
  path        TEXT,
  props       TEXT,                            -- JSON object or NULL
  -- the session's attribution context, copied so reports need no join
  link_id     TEXT,
  campaign_id TEXT,
  source      TEXT,
  medium      TEXT,
  content     TEXT,
  lead_id     TEXT
);
CREATE INDEX events_project_ts ON events(project_id, ts);
CREATE INDEX events_visitor ON events(project_id, visitor_id, ts);

CREATE TABLE profiles (
  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  id         TEXT NOT NULL,                    -- the site's own user id
  email      TEXT,                             -- trimmed and lower-cased
  name       TEXT,
  traits     TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (project_id, id)
) WITHOUT ROWID;
CREATE INDEX profiles_email ON profiles(project_id, email);

CREATE TABLE profile_visitors (
  project_id    TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  visitor_id    TEXT NOT NULL,
  profile_id    TEXT NOT NULL,
  identified_at INTEGER NOT NULL,
  PRIMARY KEY (project_id, visitor_id, profile_id)
) WITHOUT ROWID;
CREATE INDEX profile_visitors_profile ON profile_visitors(project_id, profile_id);

-- Daily random salts for cookieless visitor ids; rows older than 48 h are deleted.
CREATE TABLE visitor_salts (
  day        TEXT PRIMARY KEY,                 -- YYYY-MM-DD (UTC)
  salt       BLOB NOT NULL,
  created_at INTEGER NOT NULL
);

-- Counters per project, hour and attribution context, kept up to date in the same transaction
-- as the raw rows. `visitors` counts a visitor once per UTC day and context.
CREATE TABLE context_stats_hourly (
  project_id    TEXT NOT NULL,
  hour          INTEGER NOT NULL,              -- unix ms, floored to the hour (UTC)
  link_id       TEXT NOT NULL DEFAULT '',
  campaign_id   TEXT NOT NULL DEFAULT '',
  source        TEXT NOT NULL DEFAULT '',
  medium        TEXT NOT NULL DEFAULT '',
  content       TEXT NOT NULL DEFAULT '',
  lead_id       TEXT NOT NULL DEFAULT '',
  clicks        INTEGER NOT NULL DEFAULT 0,
  visitors      INTEGER NOT NULL DEFAULT 0,
  sessions      INTEGER NOT NULL DEFAULT 0,
  pageviews     INTEGER NOT NULL DEFAULT 0,
  pricing_views INTEGER NOT NULL DEFAULT 0,
  signups       INTEGER NOT NULL DEFAULT 0,    -- signup_completed
  PRIMARY KEY (project_id, hour, link_id, campaign_id, source, medium, content, lead_id)
) WITHOUT ROWID;
