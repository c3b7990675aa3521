-- signup_started gets its rollup counter, so the funnel reads "Started signup" from the rollups like
-- every other step instead of counting raw events per day. bumpRollup keeps it from now on.
ALTER TABLE context_stats_hourly ADD COLUMN signups_started INTEGER NOT NULL DEFAULT 0;
ALTER TABLE context_stats_periods ADD COLUMN signups_started INTEGER NOT NULL DEFAULT 0;

-- Backfill from the events already stored: the hour's rows, then their UTC day's and month's rows.
CREATE TEMP TABLE started_by_hour AS
SELECT project_id, ts - ts % 3600000 AS hour, coalesce(link_id, '') AS link_id, coalesce(campaign_id, '') AS campaign_id,
       coalesce(source, '') AS source, coalesce(medium, '') AS medium, coalesce(content, '') AS content,
       coalesce(lead_id, '') AS lead_id, count(*) AS n
FROM events WHERE name = 'signup_started' GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;

INSERT INTO context_stats_hourly (project_id, hour, link_id, campaign_id, source, medium, content, lead_id, signups_started)
SELECT project_id, hour, link_id, campaign_id, source, medium, content, lead_id, n FROM started_by_hour WHERE true
ON CONFLICT (project_id, hour, link_id, campaign_id, source, medium, content, lead_id)
DO UPDATE SET signups_started = signups_started + excluded.signups_started;

INSERT INTO context_stats_periods (project_id, grain, period, link_id, campaign_id, source, medium, content, lead_id, signups_started)
SELECT project_id, 'day', hour - hour % 86400000, link_id, campaign_id, source, medium, content, lead_id, sum(n)
FROM started_by_hour GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
UNION ALL
SELECT project_id, 'month', unixepoch(hour / 1000, 'unixepoch', 'start of month') * 1000, link_id, campaign_id, source, medium, content, lead_id, sum(n)
FROM started_by_hour GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
ON CONFLICT DO UPDATE SET signups_started = signups_started + excluded.signups_started;

DROP TABLE started_by_hour;
