-- Payments and attribution: the ledger, each payment's attribution, provider integrations, raw
-- provider events kept for debugging, and the hourly revenue rollup that reports read.

-- One row per money movement. Idempotency is structural: a provider event is recorded once
-- (provider_events), and a payment once per provider payment key (invoice, order, payment
-- intent, API transaction, or refund/dispute step).
CREATE TABLE payments (
  id                  TEXT PRIMARY KEY,
  project_id          TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  provider            TEXT NOT NULL CHECK (provider IN ('stripe', 'polar', 'api')),
  kind                TEXT NOT NULL CHECK (kind IN ('sale', 'renewal', 'refund', 'dispute')),
  payment_key         TEXT NOT NULL,           -- e.g. in_…, pi_…, order:…, refund:ch_…:500
  event_id            TEXT,                    -- the provider event that first brought it
  order_id            TEXT,                    -- Stripe invoice, Polar order, API transaction
  payment_intent_id   TEXT,
  charge_id           TEXT,
  checkout_session_id TEXT,
  subscription_id     TEXT,
  customer_id         TEXT,
  parent_payment_id   TEXT,                    -- the sale a refund/dispute/renewal belongs to
  refund_scope        TEXT,                    -- charge or order whose cumulative refunds this adds to
  customer_email      TEXT,                    -- trimmed, lower-cased
  amount              INTEGER NOT NULL,        -- minor units, tax included; negative for refund/dispute
  tax                 INTEGER NOT NULL DEFAULT 0,
  net                 INTEGER NOT NULL,        -- amount - tax: the revenue reports count
  currency            TEXT NOT NULL CHECK (currency = upper(currency) AND length(currency) = 3),
  metadata            TEXT NOT NULL DEFAULT '{}',
  description         TEXT NOT NULL DEFAULT '',
  occurred_at         INTEGER NOT NULL,
  received_at         INTEGER NOT NULL,
  -- attribution (last touch; the model reports use by default)
  method              TEXT NOT NULL CHECK (method IN ('metadata_link', 'metadata_context', 'session', 'identify_email', 'customer', 'unattributed')),
  link_id             TEXT,
  campaign_id         TEXT,
  source              TEXT,
  medium              TEXT,
  content             TEXT,
  lead_id             TEXT,
  -- first touch within the lookback window (model=first)
  first_link_id       TEXT,
  first_campaign_id   TEXT,
  first_source        TEXT,
  first_medium        TEXT,
  first_content       TEXT,
  first_lead_id       TEXT,
  visitor_id          TEXT,
  session_id          TEXT,
  profile_id          TEXT,
  explanation         TEXT NOT NULL DEFAULT '[]',  -- JSON array of sentences
  mismatches          TEXT NOT NULL DEFAULT '[]',  -- JSON array of { field, link, metadata }
  journey_event_id    INTEGER,                 -- the payment_completed row in events
  attributed_at       INTEGER NOT NULL,
  UNIQUE (project_id, provider, payment_key),
  CHECK ((kind IN ('sale', 'renewal') AND amount >= 0) OR (kind = 'refund' AND amount <= 0) OR kind = 'dispute')
);
CREATE INDEX payments_project_time ON payments(project_id, occurred_at);
CREATE INDEX payments_payment_intent ON payments(project_id, provider, payment_intent_id) WHERE payment_intent_id IS NOT NULL;
CREATE INDEX payments_order ON payments(project_id, provider, order_id) WHERE order_id IS NOT NULL;
CREATE INDEX payments_charge ON payments(project_id, provider, charge_id) WHERE charge_id IS NOT NULL;
CREATE INDEX payments_subscription ON payments(project_id, provider, subscription_id, occurred_at) WHERE subscription_id IS NOT NULL;
CREATE INDEX payments_customer ON payments(project_id, provider, customer_id, occurred_at) WHERE customer_id IS NOT NULL;
CREATE INDEX payments_email ON payments(project_id, customer_email, occurred_at) WHERE customer_email IS NOT NULL;
CREATE INDEX payments_refund_scope ON payments(project_id, provider, refund_scope) WHERE refund_scope IS NOT NULL;

-- Checkout metadata that Stripe keeps on a subscription-mode session but not on its invoices.
CREATE TABLE checkout_contexts (
  project_id      TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  provider        TEXT NOT NULL,
  subscription_id TEXT NOT NULL,
  session_id      TEXT NOT NULL,
  metadata        TEXT NOT NULL DEFAULT '{}',
  customer_email  TEXT,
  created_at      INTEGER NOT NULL,
  PRIMARY KEY (project_id, provider, subscription_id)
) WITHOUT ROWID;

-- Every provider event that was processed, by webhook or pull: the event-id level of
-- idempotency, and the raw payload the dashboard shows for debugging.
CREATE TABLE provider_events (
  id          INTEGER PRIMARY KEY,
  project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  provider    TEXT NOT NULL,
  event_id    TEXT NOT NULL,
  type        TEXT NOT NULL,
  via         TEXT NOT NULL CHECK (via IN ('webhook', 'pull')),
  received_at INTEGER NOT NULL,
  outcome     TEXT NOT NULL,                   -- what it did, in words
  payment_ids TEXT NOT NULL DEFAULT '[]',
  payload     TEXT NOT NULL,
  UNIQUE (project_id, provider, event_id)
);
CREATE INDEX provider_events_recent ON provider_events(project_id, received_at);

-- Which payments each event recorded or changed: a payment's page lists its raw events by index.
CREATE TABLE provider_event_payments (
  payment_id TEXT NOT NULL,
  event_row  INTEGER NOT NULL REFERENCES provider_events(id) ON DELETE CASCADE,
  PRIMARY KEY (payment_id, event_row)
) WITHOUT ROWID;
CREATE INDEX provider_event_payments_event ON provider_event_payments(event_row);

-- A connection to a payment provider. Credentials are sealed with BANTICO_SECRET and never leave
-- the server; cursor and backfill progress live here so a restart resumes.
CREATE TABLE integrations (
  project_id            TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  provider              TEXT NOT NULL CHECK (provider IN ('stripe', 'polar')),
  credential_sealed     TEXT,                  -- Stripe restricted key / Polar access token
  credential_hint       TEXT,                  -- e.g. "rk_live_…4f2a", safe to show
  webhook_secret_sealed TEXT,
  status                TEXT NOT NULL,         -- connected | webhook_only | error
  status_message        TEXT NOT NULL DEFAULT '',
  connected_at          INTEGER NOT NULL,
  updated_at            INTEGER NOT NULL,
  last_event_at         INTEGER,
  last_pull_at          INTEGER,
  last_error            TEXT,
  last_error_at         INTEGER,
  cursor                TEXT,                  -- JSON, provider-specific
  backfill_state        TEXT NOT NULL DEFAULT 'none' CHECK (backfill_state IN ('none', 'running', 'done')),
  backfill_from         INTEGER,
  backfill_processed    INTEGER NOT NULL DEFAULT 0,
  backfill_progress     REAL NOT NULL DEFAULT 0,  -- 0..1
  backfill_done_at      INTEGER,
  PRIMARY KEY (project_id, provider)
) WITHOUT ROWID;

-- Revenue per project, hour, model (last/first touch), attribution context and currency,
-- maintained in the same transaction as the ledger. '' stands for "none" in context columns.
CREATE TABLE payment_stats_hourly (
  project_id  TEXT NOT NULL,
  hour        INTEGER NOT NULL,
  model       TEXT NOT NULL CHECK (model IN ('last', 'first')),
  link_id     TEXT NOT NULL DEFAULT '',
  campaign_id TEXT NOT NULL DEFAULT '',
  source      TEXT NOT NULL DEFAULT '',
  medium      TEXT NOT NULL DEFAULT '',
  content     TEXT NOT NULL DEFAULT '',
  lead_id     TEXT NOT NULL DEFAULT '',
  currency    TEXT NOT NULL,
  payments    INTEGER NOT NULL DEFAULT 0,      -- sales and renewals
  revenue     INTEGER NOT NULL DEFAULT 0,      -- net of tax, sales and renewals
  refunds     INTEGER NOT NULL DEFAULT 0,      -- net of tax, refunds and disputes, as a positive sum
  PRIMARY KEY (project_id, model, hour, link_id, campaign_id, source, medium, content, lead_id, currency)
) WITHOUT ROWID;

-- Daily and monthly (UTC) sums of both hourly rollups, kept by triggers in the same transaction:
-- a year-long report reads twelve months plus the partial months, days and hours at its edges.
CREATE TABLE context_stats_periods (
  project_id    TEXT NOT NULL,
  grain         TEXT NOT NULL CHECK (grain IN ('day', 'month')),
  period        INTEGER NOT NULL,              -- unix ms of the period's start (UTC)
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
  signups       INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (project_id, grain, period, link_id, campaign_id, source, medium, content, lead_id)
) WITHOUT ROWID;

CREATE TABLE payment_stats_periods (
  project_id  TEXT NOT NULL,
  model       TEXT NOT NULL,
  grain       TEXT NOT NULL CHECK (grain IN ('day', 'month')),
  period      INTEGER NOT NULL,
  link_id     TEXT NOT NULL DEFAULT '',
  campaign_id TEXT NOT NULL DEFAULT '',
  source      TEXT NOT NULL DEFAULT '',
  medium      TEXT NOT NULL DEFAULT '',
  content     TEXT NOT NULL DEFAULT '',
  lead_id     TEXT NOT NULL DEFAULT '',
  currency    TEXT NOT NULL,
  payments    INTEGER NOT NULL DEFAULT 0,
  revenue     INTEGER NOT NULL DEFAULT 0,
  refunds     INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (project_id, model, grain, period, link_id, campaign_id, source, medium, content, lead_id, currency)
) WITHOUT ROWID;

-- The two periods an hour belongs to.
CREATE VIEW hour_periods AS SELECT 'day' AS grain UNION ALL SELECT 'month';

INSERT INTO context_stats_periods
SELECT h.project_id, p.grain,
       CASE p.grain WHEN 'day' THEN h.hour - h.hour % 86400000 ELSE unixepoch(h.hour / 1000, 'unixepoch', 'start of month') * 1000 END,
       h.link_id, h.campaign_id, h.source, h.medium, h.content, h.lead_id,
       sum(h.clicks), sum(h.visitors), sum(h.sessions), sum(h.pageviews), sum(h.pricing_views), sum(h.signups)
FROM context_stats_hourly h, hour_periods p GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9;

CREATE TRIGGER context_stats_periods_on_insert AFTER INSERT ON context_stats_hourly BEGIN
  INSERT INTO context_stats_periods
  SELECT NEW.project_id, p.grain,
         CASE p.grain WHEN 'day' THEN NEW.hour - NEW.hour % 86400000 ELSE unixepoch(NEW.hour / 1000, 'unixepoch', 'start of month') * 1000 END,
         NEW.link_id, NEW.campaign_id, NEW.source, NEW.medium, NEW.content, NEW.lead_id,
         NEW.clicks, NEW.visitors, NEW.sessions, NEW.pageviews, NEW.pricing_views, NEW.signups
  FROM hour_periods p WHERE true
  ON CONFLICT DO UPDATE SET clicks = clicks + excluded.clicks, visitors = visitors + excluded.visitors, sessions = sessions + excluded.sessions,
    pageviews = pageviews + excluded.pageviews, pricing_views = pricing_views + excluded.pricing_views, signups = signups + excluded.signups;
END;

CREATE TRIGGER context_stats_periods_on_update AFTER UPDATE ON context_stats_hourly BEGIN
  UPDATE context_stats_periods SET clicks = clicks + NEW.clicks - OLD.clicks, visitors = visitors + NEW.visitors - OLD.visitors,
    sessions = sessions + NEW.sessions - OLD.sessions, pageviews = pageviews + NEW.pageviews - OLD.pageviews,
    pricing_views = pricing_views + NEW.pricing_views - OLD.pricing_views, signups = signups + NEW.signups - OLD.signups
  WHERE project_id = NEW.project_id
    AND ((grain = 'day' AND period = NEW.hour - NEW.hour % 86400000)
      OR (grain = 'month' AND period = unixepoch(NEW.hour / 1000, 'unixepoch', 'start of month') * 1000))
    AND link_id = NEW.link_id AND campaign_id = NEW.campaign_id AND source = NEW.source AND medium = NEW.medium
    AND content = NEW.content AND lead_id = NEW.lead_id;
END;

CREATE TRIGGER payment_stats_periods_on_insert AFTER INSERT ON payment_stats_hourly BEGIN
  INSERT INTO payment_stats_periods
  SELECT NEW.project_id, NEW.model, p.grain,
         CASE p.grain WHEN 'day' THEN NEW.hour - NEW.hour % 86400000 ELSE unixepoch(NEW.hour / 1000, 'unixepoch', 'start of month') * 1000 END,
         NEW.link_id, NEW.campaign_id, NEW.source, NEW.medium, NEW.content, NEW.lead_id, NEW.currency, NEW.payments, NEW.revenue, NEW.refunds
  FROM hour_periods p WHERE true
  ON CONFLICT DO UPDATE SET payments = payments + excluded.payments, revenue = revenue + excluded.revenue, refunds = refunds + excluded.refunds;
END;

CREATE TRIGGER payment_stats_periods_on_update AFTER UPDATE ON payment_stats_hourly BEGIN
  UPDATE payment_stats_periods SET payments = payments + NEW.payments - OLD.payments, revenue = revenue + NEW.revenue - OLD.revenue,
    refunds = refunds + NEW.refunds - OLD.refunds
  WHERE project_id = NEW.project_id AND model = NEW.model
    AND ((grain = 'day' AND period = NEW.hour - NEW.hour % 86400000)
      OR (grain = 'month' AND period = unixepoch(NEW.hour / 1000, 'unixepoch', 'start of month') * 1000))
    AND link_id = NEW.link_id AND campaign_id = NEW.campaign_id AND source = NEW.source AND medium = NEW.medium
    AND content = NEW.content AND lead_id = NEW.lead_id AND currency = NEW.currency;
END;
