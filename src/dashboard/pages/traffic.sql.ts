// Traffic read from the hourly rollup (context_stats_hourly), never from raw events: totals, series, breakdowns.
import type { Database } from "bun:sqlite";
import type { TimeRange } from "./time.ts";
import { GROUP_BY_COLUMN } from "../../reports/attribution.ts";
import type { Storage } from "../../db/storage/storage.ts";
import { postgresText } from "../../db/postgres/dialect.ts";

export const DIMENSIONS = GROUP_BY_COLUMN;
export type Dimension = keyof typeof DIMENSIONS;

/** Narrows a report to one attribution context value per dimension ('' = traffic without that value). */
export type ContextFilter = Partial<Record<Dimension, string>>;

export type { Traffic } from "../../reports/days.ts";
import type { Traffic } from "../../reports/days.ts";

const SUMS = `coalesce(sum(clicks), 0) AS clicks, coalesce(sum(sessions), 0) AS sessions,
  coalesce(sum(pageviews), 0) AS pageviews, coalesce(sum(pricing_views), 0) AS pricingViews, coalesce(sum(signups), 0) AS signups,
  coalesce(sum(signups_started), 0) AS signupsStarted`;

/** The WHERE clause shared by both hourly rollups (traffic and payments have the same key columns). */
export function rollupWhere(projectId: string, range: TimeRange, filter: ContextFilter): { sql: string; params: (string | number)[] } {
  const clauses = ["project_id = ?", "hour >= ?", "hour < ?"];
  const params: (string | number)[] = [projectId, range.from, range.to];
  for (const [dimension, column] of Object.entries(DIMENSIONS)) {
    const value = filter[dimension as Dimension];
    if (value === undefined) continue;
    clauses.push(`${column} = ?`);
    params.push(value);
  }
  return { sql: clauses.join(" AND "), params };
}

export function trafficTotals(db: Database, projectId: string, range: TimeRange, filter: ContextFilter = {}): Traffic {
  const w = rollupWhere(projectId, range, filter);
  return db.query<Traffic, (string | number)[]>(`SELECT ${SUMS} FROM context_stats_hourly WHERE ${w.sql}`).get(...w.params)!;
}

const byHour = (where: string) => `SELECT hour, ${SUMS} FROM context_stats_hourly WHERE ${where} GROUP BY hour ORDER BY hour`;

export function trafficByHour(db: Database, projectId: string, range: TimeRange, filter: ContextFilter = {}): (Traffic & { hour: number })[] {
  const w = rollupWhere(projectId, range, filter);
  return db.query<Traffic & { hour: number }, (string | number)[]>(byHour(w.sql)).all(...w.params);
}

/** The same rows read through a storage (the dashboard's rollups on PostgreSQL, rollups.ts): SQLite's text as PostgreSQL reads it. */
export function trafficByHourFrom(storage: Storage, projectId: string, range: TimeRange, filter: ContextFilter = {}): Promise<(Traffic & { hour: number })[]> {
  const w = rollupWhere(projectId, range, filter);
  const sql = byHour(w.sql);
  return storage.all<Traffic & { hour: number }>(storage.engine === "sqlite" ? sql : postgresText(sql), w.params);
}

