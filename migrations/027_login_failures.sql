-- Failed sign-ins, for the login limits (src/auth/rate-limit.ts): kept in the database rather than in one
-- process's memory, so that nodes sharing a database share the limits. `key` is an HMAC naming the rule and
-- what it counts (an address, an account, or both); a row is deleted once `expires_at`, the end of its rule's
-- window, has passed.
CREATE TABLE login_failures (
  key        TEXT NOT NULL,
  at         INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key, at);
CREATE INDEX login_failures_expiry ON login_failures (expires_at);
