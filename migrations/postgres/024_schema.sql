-- PostgreSQL schema equal to the SQLite schema at version 24 (migrations/001…024), in one step.
-- PostgreSQL migrations are numbered by the SQLite version they match, so one number means one
-- schema on either engine: the next SQLite migration 025 gets a twin migrations/postgres/025_….
--
-- Types, chosen so that a copied database holds exactly what SQLite held:
-- * Unix-ms timestamps, counters, ids and money are BIGINT. SQLite's INTEGER is 64-bit, so every
--   stored value fits BIGINT; sums that could pass 2^63 exist only in queries, where PostgreSQL's
--   sum(bigint) answers NUMERIC and cannot overflow. (SQLite's own SUM() raises "integer overflow".)
-- * 0/1 flags stay SMALLINT, not BOOLEAN: the code binds and compares 0 and 1 on both engines.
-- * JSON stays TEXT, not JSONB: payloads, metadata and explanations are stored and read back
--   verbatim (JSONB reorders keys, drops duplicates and rejects \u0000 that SQLite accepted, so a
--   copy could not be verified), and no query filters inside them. A report that must can cast.
-- * REAL is DOUBLE PRECISION; BLOB is BYTEA; exchange rates stay TEXT (decimal strings, as in SQLite).
-- * users.email is unique case-insensitively (SQLite: COLLATE NOCASE) through an index on lower(email).
-- * INTEGER PRIMARY KEY (an alias of SQLite's rowid) is an identity column; migrate-to moves each
--   sequence past the copied ids. payments gets an explicit rowid column, because the FX
--   reconversion walks payments by rowid (src/payments/fx/stored.ts) and keeps its place in
--   fx_reconversions.after_rowid.
-- * Text compares by the database's collation, SQLite's by bytes: a query whose order or LIKE
--   matters across engines says COLLATE "C".
-- CHECK constraints, foreign keys, indexes and the payment-periods trigger are carried over.

CREATE TABLE projects (
  id                              TEXT PRIMARY KEY,
  name                            TEXT NOT NULL,
  token                           TEXT NOT NULL UNIQUE,
  currency                        TEXT NOT NULL DEFAULT 'USD',
  timezone                        TEXT NOT NULL DEFAULT 'UTC',
  allowed_hostnames               TEXT NOT NULL DEFAULT '[]',
  lookback_days                   INTEGER NOT NULL DEFAULT 90 CHECK (lookback_days > 0),
  pricing_path_pattern            TEXT NOT NULL DEFAULT '/pricing*',
  created_at                      BIGINT NOT NULL,
  identify_secret                 TEXT NOT NULL DEFAULT '',
  previous_identify_secret        TEXT,
  previous_identify_secret_until  BIGINT,
  verified_email_attribution_only SMALLINT NOT NULL DEFAULT 0,
  count_renewals                  SMALLINT NOT NULL DEFAULT 1
);

CREATE TABLE users (
  id            TEXT PRIMARY KEY,
  email         TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  role          TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'viewer')),
  created_at    BIGINT NOT NULL,
  every_project SMALLINT NOT NULL DEFAULT 1 CHECK (every_project IN (0, 1))
);
CREATE UNIQUE INDEX users_email ON users (lower(email));

CREATE TABLE api_keys (
  id           TEXT PRIMARY KEY,
  project_id   TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name         TEXT NOT NULL DEFAULT '',
  prefix       TEXT NOT NULL,
  key_hash     TEXT NOT NULL UNIQUE,
  created_at   BIGINT NOT NULL,
  last_used_at BIGINT,
  revoked_at   BIGINT
);
CREATE INDEX api_keys_project ON api_keys (project_id);

CREATE TABLE campaigns (
  project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  campaign_id TEXT NOT NULL,
  name        TEXT NOT NULL DEFAULT '',
  created_at  BIGINT NOT NULL,
  PRIMARY KEY (project_id, campaign_id)
);

CREATE TABLE checkout_contexts (
  project_id      TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  provider        TEXT NOT NULL,
  subscription_id TEXT NOT NULL,
  session_id      TEXT NOT NULL,
  metadata        TEXT NOT NULL DEFAULT '{}',
  customer_email  TEXT,
  created_at      BIGINT NOT NULL,
  PRIMARY KEY (project_id, provider, subscription_id)
);

CREATE TABLE links (
  id              TEXT PRIMARY KEY,
  project_id      TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  slug            TEXT NOT NULL UNIQUE,
  destination_url TEXT NOT NULL,
  campaign_id     TEXT,
  source          TEXT,
  medium          TEXT,
  content         TEXT,
  lead_id         TEXT,
  title           TEXT NOT NULL DEFAULT '',
  archived        SMALLINT NOT NULL DEFAULT 0,
  created_at      BIGINT NOT NULL,
  updated_at      BIGINT NOT NULL
);
CREATE INDEX links_project ON links (project_id, created_at);

CREATE TABLE link_counters (
  link_id         TEXT PRIMARY KEY,
  project_id      TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  clicks          BIGINT NOT NULL DEFAULT 0,
  last_clicked_at BIGINT
);

CREATE TABLE clicks (
  id            TEXT PRIMARY KEY,
  project_id    TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  link_id       TEXT NOT NULL,
  ts            BIGINT NOT NULL,
  visitor_id    TEXT,
  referrer_host TEXT,
  browser       TEXT,
  os            TEXT,
  device        TEXT,
  country       TEXT
);

CREATE TABLE sessions (
  id            TEXT PRIMARY KEY,
  project_id    TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  visitor_id    TEXT NOT NULL,
  started_at    BIGINT NOT NULL,
  last_seen_at  BIGINT NOT NULL,
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
CREATE INDEX sessions_project_started ON sessions (project_id, started_at);
CREATE INDEX sessions_visitor ON sessions (project_id, visitor_id, started_at);

CREATE TABLE events (
  id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  ts          BIGINT NOT NULL,
  name        TEXT NOT NULL,
  visitor_id  TEXT,
  session_id  TEXT,
  profile_id  TEXT,
  path        TEXT,
  props       TEXT,
  link_id     TEXT,
  campaign_id TEXT,
  source      TEXT,
  medium      TEXT,
  content     TEXT,
  lead_id     TEXT
);
CREATE INDEX events_project_ts ON events (project_id, ts);
CREATE INDEX events_visitor ON events (project_id, visitor_id, ts);

CREATE TABLE leads (
  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  lead_id    TEXT NOT NULL,
  name       TEXT,
  email      TEXT,
  company    TEXT,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (project_id, lead_id)
);

CREATE TABLE profiles (
  project_id     TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  id             TEXT NOT NULL,
  email          TEXT,
  name           TEXT,
  traits         TEXT NOT NULL DEFAULT '{}',
  created_at     BIGINT NOT NULL,
  updated_at     BIGINT NOT NULL,
  email_verified SMALLINT NOT NULL DEFAULT 0,
  PRIMARY KEY (project_id, id)
);
CREATE INDEX profiles_email ON profiles (project_id, email);

CREATE TABLE profile_visitors (
  project_id    TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  visitor_id    TEXT NOT NULL,
  profile_id    TEXT NOT NULL,
  identified_at BIGINT NOT NULL,
  verified      SMALLINT NOT NULL DEFAULT 0,
  PRIMARY KEY (project_id, visitor_id, profile_id)
);
CREATE INDEX profile_visitors_profile ON profile_visitors (project_id, profile_id);

CREATE TABLE context_stats_hourly (
  project_id      TEXT NOT NULL,
  hour            BIGINT NOT NULL,
  link_id         TEXT NOT NULL DEFAULT '',
  campaign_id     TEXT NOT NULL DEFAULT '',
  source          TEXT NOT NULL DEFAULT '',
  medium          TEXT NOT NULL DEFAULT '',
  content         TEXT NOT NULL DEFAULT '',
  lead_id         TEXT NOT NULL DEFAULT '',
  clicks          BIGINT NOT NULL DEFAULT 0,
  visitors        BIGINT NOT NULL DEFAULT 0,
  sessions        BIGINT NOT NULL DEFAULT 0,
  pageviews       BIGINT NOT NULL DEFAULT 0,
  pricing_views   BIGINT NOT NULL DEFAULT 0,
  signups         BIGINT NOT NULL DEFAULT 0,
  signups_started BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (project_id, hour, link_id, campaign_id, source, medium, content, lead_id)
);

CREATE TABLE context_stats_periods (
  project_id      TEXT NOT NULL,
  grain           TEXT NOT NULL CHECK (grain IN ('day', 'month')),
  period          BIGINT NOT NULL,
  link_id         TEXT NOT NULL DEFAULT '',
  campaign_id     TEXT NOT NULL DEFAULT '',
  source          TEXT NOT NULL DEFAULT '',
  medium          TEXT NOT NULL DEFAULT '',
  content         TEXT NOT NULL DEFAULT '',
  lead_id         TEXT NOT NULL DEFAULT '',
  clicks          BIGINT NOT NULL DEFAULT 0,
  visitors        BIGINT NOT NULL DEFAULT 0,
  sessions        BIGINT NOT NULL DEFAULT 0,
  pageviews       BIGINT NOT NULL DEFAULT 0,
  pricing_views   BIGINT NOT NULL DEFAULT 0,
  signups         BIGINT NOT NULL DEFAULT 0,
  signups_started BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (project_id, grain, period, link_id, campaign_id, source, medium, content, lead_id)
);

CREATE TABLE counter_backlog (
  id   BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  sums BYTEA NOT NULL
);

CREATE TABLE counter_fold (
  id             INTEGER PRIMARY KEY CHECK (id = 1),
  folded_through BIGINT NOT NULL,
  up_to          BIGINT,
  applied        BIGINT NOT NULL
);

CREATE TABLE dashboard_sessions (
  token_hash   TEXT PRIMARY KEY,
  user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  csrf_token   TEXT NOT NULL,
  created_at   BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL,
  expires_at   BIGINT NOT NULL
);
CREATE INDEX dashboard_sessions_expiry ON dashboard_sessions (expires_at);
CREATE INDEX dashboard_sessions_user ON dashboard_sessions (user_id);

CREATE TABLE fx_feed (
  id              INTEGER PRIMARY KEY CHECK (id = 1),
  last_attempt_at BIGINT,
  last_success_at BIGINT,
  last_error      TEXT,
  failures        BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE fx_manual_rates (
  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  currency   TEXT NOT NULL,
  per        TEXT NOT NULL,
  rate       TEXT NOT NULL,
  from_day   TEXT NOT NULL DEFAULT '',
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (project_id, currency, from_day)
);

CREATE TABLE fx_rates (
  day      TEXT NOT NULL,
  currency TEXT NOT NULL,
  rate     TEXT NOT NULL,
  PRIMARY KEY (day, currency)
);

CREATE TABLE fx_reconversions (
  project_id  TEXT PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
  after_rowid BIGINT NOT NULL DEFAULT 0,
  done        BIGINT NOT NULL DEFAULT 0,
  total       BIGINT NOT NULL,
  started_at  BIGINT NOT NULL
);

CREATE TABLE integrations (
  project_id                TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  provider                  TEXT NOT NULL CHECK (provider IN ('stripe', 'polar', 'dodo', 'lemonsqueezy', 'paddle', 'creem')),
  credential_sealed         TEXT,
  credential_hint           TEXT,
  webhook_secret_sealed     TEXT,
  status                    TEXT NOT NULL,
  status_message            TEXT NOT NULL DEFAULT '',
  connected_at              BIGINT NOT NULL,
  updated_at                BIGINT NOT NULL,
  last_event_at             BIGINT,
  last_pull_at              BIGINT,
  last_error                TEXT,
  last_error_at             BIGINT,
  cursor                    TEXT,
  backfill_state            TEXT NOT NULL DEFAULT 'none' CHECK (backfill_state IN ('none', 'running', 'done')),
  backfill_from             BIGINT,
  backfill_processed        BIGINT NOT NULL DEFAULT 0,
  backfill_progress         DOUBLE PRECISION NOT NULL DEFAULT 0,
  backfill_done_at          BIGINT,
  webhook_endpoint_id       TEXT,
  signature_failures        BIGINT NOT NULL DEFAULT 0,
  last_signature_failure_at BIGINT,
  last_signature_failure    TEXT,
  PRIMARY KEY (project_id, provider)
);

CREATE TABLE payments (
  rowid               BIGINT GENERATED BY DEFAULT AS IDENTITY UNIQUE,
  id                  TEXT PRIMARY KEY,
  project_id          TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  provider            TEXT NOT NULL CHECK (provider IN ('stripe', 'polar', 'api', 'dodo', 'lemonsqueezy', 'paddle', 'creem')),
  kind                TEXT NOT NULL CHECK (kind IN ('sale', 'renewal', 'refund', 'dispute')),
  payment_key         TEXT NOT NULL,
  event_id            TEXT,
  order_id            TEXT,
  payment_intent_id   TEXT,
  charge_id           TEXT,
  checkout_session_id TEXT,
  subscription_id     TEXT,
  customer_id         TEXT,
  parent_payment_id   TEXT,
  refund_scope        TEXT,
  customer_email      TEXT,
  amount              BIGINT NOT NULL,
  tax                 BIGINT NOT NULL DEFAULT 0,
  net                 BIGINT NOT NULL,
  currency            TEXT NOT NULL CHECK (currency = upper(currency) AND length(currency) = 3),
  metadata            TEXT NOT NULL DEFAULT '{}',
  description         TEXT NOT NULL DEFAULT '',
  occurred_at         BIGINT NOT NULL,
  received_at         BIGINT NOT NULL,
  method              TEXT NOT NULL CHECK (method IN ('metadata_link', 'metadata_context', 'session', 'identify_email', 'customer', 'unattributed')),
  link_id             TEXT,
  campaign_id         TEXT,
  source              TEXT,
  medium              TEXT,
  content             TEXT,
  lead_id             TEXT,
  first_link_id       TEXT,
  first_campaign_id   TEXT,
  first_source        TEXT,
  first_medium        TEXT,
  first_content       TEXT,
  first_lead_id       TEXT,
  visitor_id          TEXT,
  session_id          TEXT,
  profile_id          TEXT,
  explanation         TEXT NOT NULL DEFAULT '[]',
  mismatches          TEXT NOT NULL DEFAULT '[]',
  journey_event_id    BIGINT,
  attributed_at       BIGINT NOT NULL,
  settlement_currency TEXT,
  settlement_amount   BIGINT,
  reporting_currency  TEXT,
  reporting_amount    BIGINT,
  reporting_net       BIGINT,
  rate                DOUBLE PRECISION,
  rate_source         TEXT CHECK (rate_source IN ('provider', 'same', 'ecb', 'manual', 'none')),
  rate_date           TEXT,
  attribution_note    TEXT,
  UNIQUE (project_id, provider, payment_key),
  CHECK ((kind IN ('sale', 'renewal') AND amount >= 0) OR (kind = 'refund' AND amount <= 0) OR kind = 'dispute')
);
CREATE INDEX payments_charge ON payments (project_id, provider, charge_id) WHERE charge_id IS NOT NULL;
CREATE INDEX payments_customer ON payments (project_id, provider, customer_id, occurred_at) WHERE customer_id IS NOT NULL;
CREATE INDEX payments_email ON payments (project_id, customer_email, occurred_at) WHERE customer_email IS NOT NULL;
CREATE INDEX payments_order ON payments (project_id, provider, order_id) WHERE order_id IS NOT NULL;
CREATE INDEX payments_payment_intent ON payments (project_id, provider, payment_intent_id) WHERE payment_intent_id IS NOT NULL;
CREATE INDEX payments_project_time ON payments (project_id, occurred_at);
CREATE INDEX payments_refund_scope ON payments (project_id, provider, refund_scope) WHERE refund_scope IS NOT NULL;
CREATE INDEX payments_subscription ON payments (project_id, provider, subscription_id, occurred_at) WHERE subscription_id IS NOT NULL;
CREATE INDEX payments_without_rate ON payments (rate_source) WHERE rate_source = 'none';

CREATE TABLE payment_stats_hourly (
  project_id                TEXT NOT NULL,
  hour                      BIGINT NOT NULL,
  model                     TEXT NOT NULL CHECK (model IN ('last', 'first')),
  link_id                   TEXT NOT NULL DEFAULT '',
  campaign_id               TEXT NOT NULL DEFAULT '',
  source                    TEXT NOT NULL DEFAULT '',
  medium                    TEXT NOT NULL DEFAULT '',
  content                   TEXT NOT NULL DEFAULT '',
  lead_id                   TEXT NOT NULL DEFAULT '',
  currency                  TEXT NOT NULL,
  payments                  BIGINT NOT NULL DEFAULT 0,
  revenue                   BIGINT NOT NULL DEFAULT 0,
  refunds                   BIGINT NOT NULL DEFAULT 0,
  reporting_revenue         BIGINT NOT NULL DEFAULT 0,
  reporting_refunds         BIGINT NOT NULL DEFAULT 0,
  unconverted               BIGINT NOT NULL DEFAULT 0,
  renewals                  BIGINT NOT NULL DEFAULT 0,
  renewal_revenue           BIGINT NOT NULL DEFAULT 0,
  reporting_renewal_revenue BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (project_id, model, hour, link_id, campaign_id, source, medium, content, lead_id, currency)
);

CREATE TABLE payment_stats_periods (
  project_id                TEXT NOT NULL,
  model                     TEXT NOT NULL,
  grain                     TEXT NOT NULL CHECK (grain IN ('day', 'month')),
  period                    BIGINT NOT NULL,
  link_id                   TEXT NOT NULL DEFAULT '',
  campaign_id               TEXT NOT NULL DEFAULT '',
  source                    TEXT NOT NULL DEFAULT '',
  medium                    TEXT NOT NULL DEFAULT '',
  content                   TEXT NOT NULL DEFAULT '',
  lead_id                   TEXT NOT NULL DEFAULT '',
  currency                  TEXT NOT NULL,
  payments                  BIGINT NOT NULL DEFAULT 0,
  revenue                   BIGINT NOT NULL DEFAULT 0,
  refunds                   BIGINT NOT NULL DEFAULT 0,
  reporting_revenue         BIGINT NOT NULL DEFAULT 0,
  reporting_refunds         BIGINT NOT NULL DEFAULT 0,
  unconverted               BIGINT NOT NULL DEFAULT 0,
  renewals                  BIGINT NOT NULL DEFAULT 0,
  renewal_revenue           BIGINT NOT NULL DEFAULT 0,
  reporting_renewal_revenue BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (project_id, model, grain, period, link_id, campaign_id, source, medium, content, lead_id, currency)
);

-- The day and month rows follow the hourly rows, as SQLite's two triggers of the same names do.
CREATE FUNCTION payment_stats_periods_follow_hourly() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  grains CONSTANT TEXT[] := ARRAY['day', 'month'];
  g TEXT;
  start BIGINT;
BEGIN
  FOREACH g IN ARRAY grains LOOP
    start := CASE g WHEN 'day' THEN NEW.hour - NEW.hour % 86400000
      ELSE (extract(epoch FROM date_trunc('month', to_timestamp(NEW.hour / 1000) AT TIME ZONE 'UTC')) * 1000)::BIGINT END;
    IF TG_OP = 'INSERT' THEN
      INSERT INTO payment_stats_periods AS p (project_id, model, grain, period, link_id, campaign_id, source, medium, content, lead_id, currency,
        payments, revenue, refunds, reporting_revenue, reporting_refunds, unconverted, renewals, renewal_revenue, reporting_renewal_revenue)
      VALUES (NEW.project_id, NEW.model, g, start, NEW.link_id, NEW.campaign_id, NEW.source, NEW.medium, NEW.content, NEW.lead_id, NEW.currency,
        NEW.payments, NEW.revenue, NEW.refunds, NEW.reporting_revenue, NEW.reporting_refunds, NEW.unconverted, NEW.renewals, NEW.renewal_revenue,
        NEW.reporting_renewal_revenue)
      ON CONFLICT (project_id, model, grain, period, link_id, campaign_id, source, medium, content, lead_id, currency) DO UPDATE SET
        payments = p.payments + excluded.payments, revenue = p.revenue + excluded.revenue, refunds = p.refunds + excluded.refunds,
        reporting_revenue = p.reporting_revenue + excluded.reporting_revenue, reporting_refunds = p.reporting_refunds + excluded.reporting_refunds,
        unconverted = p.unconverted + excluded.unconverted, renewals = p.renewals + excluded.renewals,
        renewal_revenue = p.renewal_revenue + excluded.renewal_revenue,
        reporting_renewal_revenue = p.reporting_renewal_revenue + excluded.reporting_renewal_revenue;
    ELSE
      UPDATE payment_stats_periods SET payments = payments + NEW.payments - OLD.payments, revenue = revenue + NEW.revenue - OLD.revenue,
        refunds = refunds + NEW.refunds - OLD.refunds, reporting_revenue = reporting_revenue + NEW.reporting_revenue - OLD.reporting_revenue,
        reporting_refunds = reporting_refunds + NEW.reporting_refunds - OLD.reporting_refunds, unconverted = unconverted + NEW.unconverted - OLD.unconverted,
        renewals = renewals + NEW.renewals - OLD.renewals, renewal_revenue = renewal_revenue + NEW.renewal_revenue - OLD.renewal_revenue,
        reporting_renewal_revenue = reporting_renewal_revenue + NEW.reporting_renewal_revenue - OLD.reporting_renewal_revenue
      WHERE project_id = NEW.project_id AND model = NEW.model AND grain = g AND period = start
        AND link_id = NEW.link_id AND campaign_id = NEW.campaign_id AND source = NEW.source AND medium = NEW.medium
        AND content = NEW.content AND lead_id = NEW.lead_id AND currency = NEW.currency;
    END IF;
  END LOOP;
  RETURN NULL;
END $$;
CREATE TRIGGER payment_stats_periods_on_insert AFTER INSERT ON payment_stats_hourly
  FOR EACH ROW EXECUTE FUNCTION payment_stats_periods_follow_hourly();
CREATE TRIGGER payment_stats_periods_on_update AFTER UPDATE ON payment_stats_hourly
  FOR EACH ROW EXECUTE FUNCTION payment_stats_periods_follow_hourly();

CREATE TABLE provider_events (
  id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  provider    TEXT NOT NULL,
  event_id    TEXT NOT NULL,
  type        TEXT NOT NULL,
  via         TEXT NOT NULL CHECK (via IN ('webhook', 'pull')),
  received_at BIGINT NOT NULL,
  outcome     TEXT NOT NULL,
  payment_ids TEXT NOT NULL DEFAULT '[]',
  payload     TEXT NOT NULL,
  UNIQUE (project_id, provider, event_id)
);
CREATE INDEX provider_events_recent ON provider_events (project_id, received_at);

CREATE TABLE provider_event_payments (
  payment_id TEXT NOT NULL,
  event_row  BIGINT NOT NULL REFERENCES provider_events(id) ON DELETE CASCADE,
  PRIMARY KEY (payment_id, event_row)
);
CREATE INDEX provider_event_payments_event ON provider_event_payments (event_row);

CREATE TABLE project_members (
  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role       TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
  created_at BIGINT NOT NULL,
  PRIMARY KEY (project_id, user_id)
);
CREATE INDEX project_members_user ON project_members (user_id);

CREATE TABLE setup_token (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  token      TEXT NOT NULL,
  created_at BIGINT NOT NULL
);

CREATE TABLE subscriptions (
  project_id       TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  provider         TEXT NOT NULL,
  id               TEXT NOT NULL,
  first_payment_id TEXT,
  interval         TEXT NOT NULL CHECK (interval IN ('day', 'week', 'month', 'year')),
  interval_count   INTEGER NOT NULL DEFAULT 1 CHECK (interval_count BETWEEN 1 AND 1000),
  cancelled_at     BIGINT,
  created_at       BIGINT NOT NULL,
  updated_at       BIGINT NOT NULL,
  PRIMARY KEY (project_id, provider, id)
);

CREATE TABLE subscription_periods (
  project_id      TEXT NOT NULL,
  provider        TEXT NOT NULL,
  subscription_id TEXT NOT NULL,
  period_start    BIGINT NOT NULL,
  period_end      BIGINT NOT NULL CHECK (period_end > period_start),
  payment_id      TEXT NOT NULL,
  interval        TEXT NOT NULL CHECK (interval IN ('day', 'week', 'month', 'year')),
  interval_count  INTEGER NOT NULL DEFAULT 1,
  PRIMARY KEY (project_id, provider, subscription_id, period_start),
  FOREIGN KEY (project_id, provider, subscription_id) REFERENCES subscriptions (project_id, provider, id) ON DELETE CASCADE
);
CREATE INDEX subscription_periods_payment ON subscription_periods (payment_id);

CREATE TABLE tracker_hosts (
  project_id    TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  host          TEXT NOT NULL,
  persisted     SMALLINT NOT NULL,
  first_seen_at BIGINT NOT NULL,
  last_seen_at  BIGINT NOT NULL,
  PRIMARY KEY (project_id, host, persisted)
);

CREATE TABLE visitor_salts (
  day        TEXT PRIMARY KEY,
  salt       BYTEA NOT NULL,
  created_at BIGINT NOT NULL
);
