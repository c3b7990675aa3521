// The funnel's counts: rollup counters for most steps, and signup_started, which no rollup counts,
// from raw events summed per hour and cached per closed UTC day so a 30-day funnel stays fast.
import type { Database } from "bun:sqlite";
import { DAY_MS, HOUR_MS, type TimeRange } from "./time.ts";
import { DIMENSIONS, type ContextFilter, type Dimension } from "./traffic.sql.ts";

interface HourCount {
  hour: number;
  link_id: string;
  campaign_id: string;
  source: string;
  medium: string;
  content: string;
  lead_id: string;
  n: number;
}

const COUNT_BY_HOUR = `SELECT (ts / ${HOUR_MS}) * ${HOUR_MS} AS hour, coalesce(link_id, '') AS link_id, coalesce(campaign_id, '') AS campaign_id,
  coalesce(source, '') AS source, coalesce(medium, '') AS medium, coalesce(content, '') AS content, coalesce(lead_id, '') AS lead_id, count(*) AS n
  FROM events WHERE project_id = ? AND ts >= ? AND ts < ? AND name = ? GROUP BY 1, 2, 3, 4, 5, 6, 7`;

// A closed day's counts change only when an event arrives late with an old timestamp: an hour is stale enough.
const CACHE_TTL_MS = HOUR_MS;
const cache = new WeakMap<Database, Map<string, { at: number; rows: HourCount[] }>>();

function dayCounts(db: Database, projectId: string, eventName: string, day: number, now: number): HourCount[] {
  const closed = day + DAY_MS + HOUR_MS <= now;
  if (!closed) return db.query<HourCount, [string, number, number, string]>(COUNT_BY_HOUR).all(projectId, day, day + DAY_MS, eventName);
  let entries = cache.get(db);
  if (!entries) cache.set(db, (entries = new Map()));
  const key = `${projectId}|${eventName}|${day}`;
  const hit = entries.get(key);
  if (hit && now - hit.at < CACHE_TTL_MS) return hit.rows;
  const rows = db.query<HourCount, [string, number, number, string]>(COUNT_BY_HOUR).all(projectId, day, day + DAY_MS, eventName);
  entries.set(key, { at: now, rows });
  return rows;
}

/** How many `eventName` events happened in the range (hour-aligned) for traffic matching the filter. */
export function countEvents(db: Database, projectId: string, eventName: string, range: TimeRange, filter: ContextFilter, now: number): number {
  const from = Math.floor(range.from / HOUR_MS) * HOUR_MS;
  const matches = Object.entries(filter).map(([dimension, value]) => [DIMENSIONS[dimension as Dimension], value] as const);
  let total = 0;
  for (let day = Math.floor(from / DAY_MS) * DAY_MS; day < range.to; day += DAY_MS) {
    for (const row of dayCounts(db, projectId, eventName, day, now)) {
      if (row.hour < from || row.hour >= range.to) continue;
      if (matches.every(([column, value]) => row[column as keyof HourCount] === value)) total += row.n;
    }
  }
  return total;
}
