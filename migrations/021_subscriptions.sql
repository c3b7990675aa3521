-- Subscriptions as first-class data (SPEC §5): one row per provider subscription, credited to its
-- first sale's attribution, and one row per paid period, from which MRR is computed.
CREATE TABLE subscriptions (
  project_id       TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  provider         TEXT NOT NULL,
  id               TEXT NOT NULL,               -- the provider's subscription id (API: the caller's)
  first_payment_id TEXT,                        -- the first sale: its attribution is the subscription's
  interval         TEXT NOT NULL CHECK (interval IN ('day', 'week', 'month', 'year')),
  interval_count   INTEGER NOT NULL DEFAULT 1 CHECK (interval_count BETWEEN 1 AND 1000),
  cancelled_at     INTEGER,                     -- MRR ends here (cancelled, deleted, revoked)
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  PRIMARY KEY (project_id, provider, id)
) WITHOUT ROWID;

-- A paid period [period_start, period_end) on the terms it was paid on: the payment that paid it,
-- normalised to a month, is its MRR.
CREATE TABLE subscription_periods (
  project_id      TEXT NOT NULL,
  provider        TEXT NOT NULL,
  subscription_id TEXT NOT NULL,
  period_start    INTEGER NOT NULL,
  period_end      INTEGER NOT NULL CHECK (period_end > period_start),
  payment_id      TEXT NOT NULL,
  interval        TEXT NOT NULL CHECK (interval IN ('day', 'week', 'month', 'year')),
  interval_count  INTEGER NOT NULL DEFAULT 1,
  PRIMARY KEY (project_id, provider, subscription_id, period_start),
  FOREIGN KEY (project_id, provider, subscription_id) REFERENCES subscriptions(project_id, provider, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX subscription_periods_payment ON subscription_periods(payment_id);
