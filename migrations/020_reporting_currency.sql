-- Reporting currency: each payment's value in the project's currency (SPEC §5), the rates it comes
-- from (every ECB fixing, manual rates), the feed's health, and re-conversion progress.

-- What the provider credited in another currency (Stripe's balance transaction, …), and the
-- payment's value in the reporting currency. rate_source NULL: not converted yet (the background
-- job converts it); 'none': no rate known, left out of converted sums and counted as unconverted.
ALTER TABLE payments ADD COLUMN settlement_currency TEXT;
ALTER TABLE payments ADD COLUMN settlement_amount INTEGER;
ALTER TABLE payments ADD COLUMN reporting_currency TEXT;
ALTER TABLE payments ADD COLUMN reporting_amount INTEGER;
ALTER TABLE payments ADD COLUMN reporting_net INTEGER;
ALTER TABLE payments ADD COLUMN rate REAL;
ALTER TABLE payments ADD COLUMN rate_source TEXT CHECK (rate_source IN ('provider', 'same', 'ecb', 'manual', 'none'));
ALTER TABLE payments ADD COLUMN rate_date TEXT;
CREATE INDEX payments_unconverted ON payments(project_id, currency) WHERE rate_source = 'none' OR rate_source IS NULL;

-- Count renewals in revenue totals (DataFast's setting; on by default).
ALTER TABLE projects ADD COLUMN count_renewals INTEGER NOT NULL DEFAULT 1;

-- Every ECB fixing: units of `currency` per 1 EUR on `day`, the feed's decimal string.
CREATE TABLE fx_rates (
  day      TEXT NOT NULL,
  currency TEXT NOT NULL,
  rate     TEXT NOT NULL,
  PRIMARY KEY (day, currency)
) WITHOUT ROWID;

-- Rates set by hand: 1 `currency` = `rate` units of `per` from `from_day` on ('' = every day).
CREATE TABLE fx_manual_rates (
  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  currency   TEXT NOT NULL,
  per        TEXT NOT NULL,
  rate       TEXT NOT NULL,
  from_day   TEXT NOT NULL DEFAULT '',
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (project_id, currency, from_day)
) WITHOUT ROWID;

-- The feed fetcher's health, shown in settings.
CREATE TABLE fx_feed (
  id              INTEGER PRIMARY KEY CHECK (id = 1),
  last_attempt_at INTEGER,
  last_success_at INTEGER,
  last_error      TEXT,
  failures        INTEGER NOT NULL DEFAULT 0
);

-- A project's history being converted again (new reporting currency, first start): the job walks
-- its payments by rowid in chunks and survives a restart.
CREATE TABLE fx_reconversions (
  project_id  TEXT PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
  after_rowid INTEGER NOT NULL DEFAULT 0,
  done        INTEGER NOT NULL DEFAULT 0,
  total       INTEGER NOT NULL,
  started_at  INTEGER NOT NULL
);
INSERT INTO fx_reconversions (project_id, total, started_at)
SELECT id, (SELECT COUNT(*) FROM payments WHERE project_id = projects.id), CAST(unixepoch('subsec') * 1000 AS INTEGER) FROM projects;

-- Converted sums beside the per-currency ones: the reporting currency's minor units of converted
-- payments, and how many payments had no rate. Kept with the ledger in the same transaction.
ALTER TABLE payment_stats_hourly ADD COLUMN reporting_revenue INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payment_stats_hourly ADD COLUMN reporting_refunds INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payment_stats_hourly ADD COLUMN unconverted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payment_stats_periods ADD COLUMN reporting_revenue INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payment_stats_periods ADD COLUMN reporting_refunds INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payment_stats_periods ADD COLUMN unconverted INTEGER NOT NULL DEFAULT 0;

DROP TRIGGER payment_stats_periods_on_insert;
DROP TRIGGER payment_stats_periods_on_update;

CREATE TRIGGER payment_stats_periods_on_insert AFTER INSERT ON payment_stats_hourly BEGIN
  INSERT INTO payment_stats_periods (project_id, model, grain, period, link_id, campaign_id, source, medium, content, lead_id, currency,
    payments, revenue, refunds, reporting_revenue, reporting_refunds, unconverted)
  VALUES (NEW.project_id, NEW.model, 'day', NEW.hour - NEW.hour % 86400000, NEW.link_id, NEW.campaign_id, NEW.source, NEW.medium, NEW.content,
    NEW.lead_id, NEW.currency, NEW.payments, NEW.revenue, NEW.refunds, NEW.reporting_revenue, NEW.reporting_refunds, NEW.unconverted)
  ON CONFLICT DO UPDATE SET payments = payments + excluded.payments, revenue = revenue + excluded.revenue, refunds = refunds + excluded.refunds,
    reporting_revenue = reporting_revenue + excluded.reporting_revenue, reporting_refunds = reporting_refunds + excluded.reporting_refunds,
    unconverted = unconverted + excluded.unconverted;
  INSERT INTO payment_stats_periods (project_id, model, grain, period, link_id, campaign_id, source, medium, content, lead_id, currency,
    payments, revenue, refunds, reporting_revenue, reporting_refunds, unconverted)
  VALUES (NEW.project_id, NEW.model, 'month', unixepoch(NEW.hour / 1000, 'unixepoch', 'start of month') * 1000, NEW.link_id, NEW.campaign_id,
    NEW.source, NEW.medium, NEW.content, NEW.lead_id, NEW.currency, NEW.payments, NEW.revenue, NEW.refunds, NEW.reporting_revenue,
    NEW.reporting_refunds, NEW.unconverted)
  ON CONFLICT DO UPDATE SET payments = payments + excluded.payments, revenue = revenue + excluded.revenue, refunds = refunds + excluded.refunds,
    reporting_revenue = reporting_revenue + excluded.reporting_revenue, reporting_refunds = reporting_refunds + excluded.reporting_refunds,
    unconverted = unconverted + excluded.unconverted;
END;

CREATE TRIGGER payment_stats_periods_on_update AFTER UPDATE ON payment_stats_hourly BEGIN
  UPDATE payment_stats_periods SET payments = payments + NEW.payments - OLD.payments, revenue = revenue + NEW.revenue - OLD.revenue,
    refunds = refunds + NEW.refunds - OLD.refunds, reporting_revenue = reporting_revenue + NEW.reporting_revenue - OLD.reporting_revenue,
    reporting_refunds = reporting_refunds + NEW.reporting_refunds - OLD.reporting_refunds, unconverted = unconverted + NEW.unconverted - OLD.unconverted
  WHERE project_id = NEW.project_id AND model = NEW.model
    AND ((grain = 'day' AND period = NEW.hour - NEW.hour % 86400000)
      OR (grain = 'month' AND period = unixepoch(NEW.hour / 1000, 'unixepoch', 'start of month') * 1000))
    AND link_id = NEW.link_id AND campaign_id = NEW.campaign_id AND source = NEW.source AND medium = NEW.medium
    AND content = NEW.content AND lead_id = NEW.lead_id AND currency = NEW.currency;
END;
