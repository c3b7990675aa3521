-- context_stats_periods is now written beside context_stats_hourly by bumpRollup (src/tracking/events.ts),
-- once per key and group-commit batch: the triggers cost a third more per rollup write on the redirect path.
DROP TRIGGER context_stats_periods_on_insert;
DROP TRIGGER context_stats_periods_on_update;
