-- The twin of migrations/028_job_leases.sql: which node runs each scheduled job, until when.
CREATE TABLE job_leases (
  name       TEXT PRIMARY KEY,
  holder     TEXT NOT NULL,
  expires_at BIGINT NOT NULL
);
