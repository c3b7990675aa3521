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
CREATE INDEX payments_without_rate ON payments(rate_source) WHERE rate_source = 'none';

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
-- payments, and how many payments had no rate; and the renewals' share of payments, revenue and
-- reporting_revenue, which totals subtract when the project does not count renewals. Kept with
-- the ledger in the same transaction.
ALTER TABLE payment_stats_hourly ADD COLUMN reporting_revenue INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payment_stats_hourly ADD COLUMN reporting_refunds INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payment_stats_hourly ADD COLUMN unconverted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payment_stats_hourly ADD COLUMN renewals INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payment_stats_hourly ADD COLUMN renewal_revenue INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payment_stats_hourly ADD COLUMN reporting_renewal_revenue INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payment_stats_periods ADD COLUMN reporting_revenue INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payment_stats_periods ADD COLUMN reporting_refunds INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payment_stats_periods ADD COLUMN unconverted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payment_stats_periods ADD COLUMN renewals INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payment_stats_periods ADD COLUMN renewal_revenue INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payment_stats_periods ADD COLUMN reporting_renewal_revenue INTEGER NOT NULL DEFAULT 0;

-- Renewals already in the rollups (UPDATE FROM: the periods follow through their update trigger,
-- still the one of 004 here, which does not know these columns: they are set directly below).
UPDATE payment_stats_hourly AS h SET renewals = r.n, renewal_revenue = r.revenue
FROM (
  SELECT project_id, occurred_at / 3600000 * 3600000 AS hour, m.model,
    COALESCE(CASE m.model WHEN 'last' THEN link_id ELSE first_link_id END, '') AS link_id,
    COALESCE(CASE m.model WHEN 'last' THEN campaign_id ELSE first_campaign_id END, '') AS campaign_id,
    COALESCE(CASE m.model WHEN 'last' THEN source ELSE first_source END, '') AS source,
    COALESCE(CASE m.model WHEN 'last' THEN medium ELSE first_medium END, '') AS medium,
    COALESCE(CASE m.model WHEN 'last' THEN content ELSE first_content END, '') AS content,
    COALESCE(CASE m.model WHEN 'last' THEN lead_id ELSE first_lead_id END, '') AS lead_id,
    currency, COUNT(*) AS n, SUM(net) AS revenue
  FROM payments, (SELECT 'last' AS model UNION ALL SELECT 'first') m WHERE kind = 'renewal'
  GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
) AS r
WHERE h.project_id = r.project_id AND h.hour = r.hour AND h.model = r.model AND h.link_id = r.link_id AND h.campaign_id = r.campaign_id
  AND h.source = r.source AND h.medium = r.medium AND h.content = r.content AND h.lead_id = r.lead_id AND h.currency = r.currency;
UPDATE payment_stats_periods AS p SET renewals = s.renewals, renewal_revenue = s.renewal_revenue
FROM (
  SELECT project_id, model, g.grain,
    CASE g.grain WHEN 'day' THEN hour - hour % 86400000 ELSE unixepoch(hour / 1000, 'unixepoch', 'start of month') * 1000 END AS period,
    link_id, campaign_id, source, medium, content, lead_id, currency, SUM(renewals) AS renewals, SUM(renewal_revenue) AS renewal_revenue
  FROM payment_stats_hourly, (SELECT 'day' AS grain UNION ALL SELECT 'month') g WHERE renewals != 0
  GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
) AS s
WHERE p.project_id = s.project_id AND p.model = s.model AND p.grain = s.grain AND p.period = s.period AND p.link_id = s.link_id
  AND p.campaign_id = s.campaign_id AND p.source = s.source AND p.medium = s.medium AND p.content = s.content AND p.lead_id = s.lead_id
  AND p.currency = s.currency;

DROP TRIGGER payment_stats_periods_on_insert;
DROP TRIGGER payment_stats_periods_on_update;

CREATE TRIGGER payment_stats_periods_on_insert AFTER INSERT ON payment_stats_hourly BEGIN
  INSERT INTO payment_stats_periods (project_id, model, grain, period, link_id, campaign_id, source, medium, content, lead_id, currency,
    payments, revenue, refunds, reporting_revenue, reporting_refunds, unconverted, renewals, renewal_revenue, reporting_renewal_revenue)
  SELECT NEW.project_id, NEW.model, g.grain,
    CASE g.grain WHEN 'day' THEN NEW.hour - NEW.hour % 86400000 ELSE unixepoch(NEW.hour / 1000, 'unixepoch', 'start of month') * 1000 END,
    NEW.link_id, NEW.campaign_id, NEW.source, NEW.medium, NEW.content, NEW.lead_id, NEW.currency, NEW.payments, NEW.revenue, NEW.refunds,
    NEW.reporting_revenue, NEW.reporting_refunds, NEW.unconverted, NEW.renewals, NEW.renewal_revenue, NEW.reporting_renewal_revenue
  FROM (SELECT 'day' AS grain UNION ALL SELECT 'month') g WHERE true
  ON CONFLICT DO UPDATE SET payments = payments + excluded.payments, revenue = revenue + excluded.revenue, refunds = refunds + excluded.refunds,
    reporting_revenue = reporting_revenue + excluded.reporting_revenue, reporting_refunds = reporting_refunds + excluded.reporting_refunds,
    unconverted = unconverted + excluded.unconverted, renewals = renewals + excluded.renewals, renewal_revenue = renewal_revenue + excluded.renewal_revenue,
    reporting_renewal_revenue = reporting_renewal_revenue + excluded.reporting_renewal_revenue;
END;

-- One UPDATE per grain: each is a primary-key lookup (an OR of the two grains scanned the model's rows).
CREATE TRIGGER payment_stats_periods_on_update AFTER UPDATE ON payment_stats_hourly BEGIN
  UPDATE payment_stats_periods SET payments = payments + NEW.payments - OLD.payments, revenue = revenue + NEW.revenue - OLD.revenue,
    refunds = refunds + NEW.refunds - OLD.refunds, reporting_revenue = reporting_revenue + NEW.reporting_revenue - OLD.reporting_revenue,
    reporting_refunds = reporting_refunds + NEW.reporting_refunds - OLD.reporting_refunds, unconverted = unconverted + NEW.unconverted - OLD.unconverted,
    renewals = renewals + NEW.renewals - OLD.renewals, renewal_revenue = renewal_revenue + NEW.renewal_revenue - OLD.renewal_revenue,
    reporting_renewal_revenue = reporting_renewal_revenue + NEW.reporting_renewal_revenue - OLD.reporting_renewal_revenue
  WHERE project_id = NEW.project_id AND model = NEW.model AND grain = 'day' AND period = NEW.hour - NEW.hour % 86400000
    AND link_id = NEW.link_id AND campaign_id = NEW.campaign_id AND source = NEW.source AND medium = NEW.medium
    AND content = NEW.content AND lead_id = NEW.lead_id AND currency = NEW.currency;
  UPDATE payment_stats_periods SET payments = payments + NEW.payments - OLD.payments, revenue = revenue + NEW.revenue - OLD.revenue,
    refunds = refunds + NEW.refunds - OLD.refunds, reporting_revenue = reporting_revenue + NEW.reporting_revenue - OLD.reporting_revenue,
    reporting_refunds = reporting_refunds + NEW.reporting_refunds - OLD.reporting_refunds, unconverted = unconverted + NEW.unconverted - OLD.unconverted,
    renewals = renewals + NEW.renewals - OLD.renewals, renewal_revenue = renewal_revenue + NEW.renewal_revenue - OLD.renewal_revenue,
    reporting_renewal_revenue = reporting_renewal_revenue + NEW.reporting_renewal_revenue - OLD.reporting_renewal_revenue
  WHERE project_id = NEW.project_id AND model = NEW.model AND grain = 'month' AND period = unixepoch(NEW.hour / 1000, 'unixepoch', 'start of month') * 1000
    AND link_id = NEW.link_id AND campaign_id = NEW.campaign_id AND source = NEW.source AND medium = NEW.medium
    AND content = NEW.content AND lead_id = NEW.lead_id AND currency = NEW.currency;
END;
