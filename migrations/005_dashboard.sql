-- Dashboard sign-in sessions: the cookie holds a random token, only its hash is stored here.
CREATE TABLE dashboard_sessions (
  token_hash   TEXT PRIMARY KEY,
  user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  csrf_token   TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX dashboard_sessions_user ON dashboard_sessions(user_id);
CREATE INDEX dashboard_sessions_expiry ON dashboard_sessions(expires_at);
