-- What the attribution doctor reads beyond the ledger: the hostnames the tracker runs on and whether
-- their visitors are persisted (data-persist, no GPC/DNT) or cookieless, and webhook deliveries
-- refused for their signature (a secret that does not match the provider's endpoint).
CREATE TABLE tracker_hosts (
  project_id    TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  host          TEXT NOT NULL,
  persisted     INTEGER NOT NULL,              -- 1: the hit carried a persisted visitor id; 0: cookieless
  first_seen_at INTEGER NOT NULL,
  last_seen_at  INTEGER NOT NULL,
  PRIMARY KEY (project_id, host, persisted)
) WITHOUT ROWID;

ALTER TABLE integrations ADD COLUMN signature_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE integrations ADD COLUMN last_signature_failure_at INTEGER;
ALTER TABLE integrations ADD COLUMN last_signature_failure TEXT;
