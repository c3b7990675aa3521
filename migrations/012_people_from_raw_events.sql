-- People are now counted distinct over any range from the raw journey (SPEC §10, src/reports/people):
-- the per-day, per-context "first visit" bookkeeping that fed context_stats_*.visitors is no longer
-- written, and those columns are no longer read (they stay, so earlier backlog rows still fold).
DROP TABLE counted_visitors;
