-- signup_started gets its rollup counter, so the funnel reads "Started signup" from the rollups like
-- every other step instead of counting raw events per day.
ALTER TABLE context_stats_hourly ADD COLUMN signups_started INTEGER NOT NULL DEFAULT 0;
ALTER TABLE context_stats_periods ADD COLUMN signups_started INTEGER NOT NULL DEFAULT 0;

-- The period triggers (migration 004) listed values by position: recreated with named columns.
DROP TRIGGER context_stats_periods_on_insert;
DROP TRIGGER context_stats_periods_on_update;

CREATE TRIGGER context_stats_periods_on_insert AFTER INSERT ON context_stats_hourly BEGIN
  INSERT INTO context_stats_periods (project_id, grain, period, link_id, campaign_id, source, medium, content, lead_id,
    clicks, visitors, sessions, pageviews, pricing_views, signups, signups_started)
  VALUES (NEW.project_id, 'day', NEW.hour - NEW.hour % 86400000, NEW.link_id, NEW.campaign_id, NEW.source, NEW.medium, NEW.content, NEW.lead_id,
    NEW.clicks, NEW.visitors, NEW.sessions, NEW.pageviews, NEW.pricing_views, NEW.signups, NEW.signups_started)
  ON CONFLICT DO UPDATE SET clicks = clicks + excluded.clicks, visitors = visitors + excluded.visitors, sessions = sessions + excluded.sessions,
    pageviews = pageviews + excluded.pageviews, pricing_views = pricing_views + excluded.pricing_views, signups = signups + excluded.signups,
    signups_started = signups_started + excluded.signups_started;
  INSERT INTO context_stats_periods (project_id, grain, period, link_id, campaign_id, source, medium, content, lead_id,
    clicks, visitors, sessions, pageviews, pricing_views, signups, signups_started)
  VALUES (NEW.project_id, 'month', unixepoch(NEW.hour / 1000, 'unixepoch', 'start of month') * 1000, NEW.link_id, NEW.campaign_id, NEW.source,
    NEW.medium, NEW.content, NEW.lead_id, NEW.clicks, NEW.visitors, NEW.sessions, NEW.pageviews, NEW.pricing_views, NEW.signups, NEW.signups_started)
  ON CONFLICT DO UPDATE SET clicks = clicks + excluded.clicks, visitors = visitors + excluded.visitors, sessions = sessions + excluded.sessions,
    pageviews = pageviews + excluded.pageviews, pricing_views = pricing_views + excluded.pricing_views, signups = signups + excluded.signups,
    signups_started = signups_started + excluded.signups_started;
END;

CREATE TRIGGER context_stats_periods_on_update AFTER UPDATE ON context_stats_hourly BEGIN
  UPDATE context_stats_periods SET clicks = clicks + NEW.clicks - OLD.clicks, visitors = visitors + NEW.visitors - OLD.visitors,
    sessions = sessions + NEW.sessions - OLD.sessions, pageviews = pageviews + NEW.pageviews - OLD.pageviews,
    pricing_views = pricing_views + NEW.pricing_views - OLD.pricing_views, signups = signups + NEW.signups - OLD.signups,
    signups_started = signups_started + NEW.signups_started - OLD.signups_started
  WHERE project_id = NEW.project_id
    AND ((grain = 'day' AND period = NEW.hour - NEW.hour % 86400000)
      OR (grain = 'month' AND period = unixepoch(NEW.hour / 1000, 'unixepoch', 'start of month') * 1000))
    AND link_id = NEW.link_id AND campaign_id = NEW.campaign_id AND source = NEW.source AND medium = NEW.medium
    AND content = NEW.content AND lead_id = NEW.lead_id;
END;

-- Backfill from the events already stored; the triggers above carry it into the period sums.
INSERT INTO context_stats_hourly (project_id, hour, link_id, campaign_id, source, medium, content, lead_id, signups_started)
SELECT project_id, ts - ts % 3600000, coalesce(link_id, ''), coalesce(campaign_id, ''), coalesce(source, ''), coalesce(medium, ''),
       coalesce(content, ''), coalesce(lead_id, ''), count(*)
FROM events WHERE name = 'signup_started' GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
ON CONFLICT (project_id, hour, link_id, campaign_id, source, medium, content, lead_id) DO UPDATE SET signups_started = signups_started + excluded.signups_started;
