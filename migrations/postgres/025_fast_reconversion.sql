-- The twin of migrations/025_fast_reconversion.sql: each paid period keeps its payment's converted
-- net; the periods follow an hourly update only of the per-currency columns (a re-conversion moves
-- the converted ones itself); a re-conversion's place while it re-sums the rollup.
ALTER TABLE subscription_periods ADD COLUMN reporting_net BIGINT;
UPDATE subscription_periods SET reporting_net = payments.reporting_net FROM payments WHERE payments.id = subscription_periods.payment_id;

DROP TRIGGER payment_stats_periods_on_update ON payment_stats_hourly;
CREATE TRIGGER payment_stats_periods_on_update AFTER UPDATE OF payments, revenue, refunds, renewals, renewal_revenue ON payment_stats_hourly
  FOR EACH ROW EXECUTE FUNCTION payment_stats_periods_follow_hourly();

ALTER TABLE fx_reconversions ADD COLUMN rollup_hour BIGINT;
ALTER TABLE fx_reconversions ADD COLUMN rollup_end BIGINT;
