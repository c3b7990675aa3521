-- The twin of migrations/027_login_failures.sql: failed sign-ins, shared by every node for the login limits.
CREATE TABLE login_failures (
  key        TEXT NOT NULL,
  at         BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key, at);
CREATE INDEX login_failures_expiry ON login_failures (expires_at);
