// What every data page reads: traffic and revenue for a range, totals, series and breakdowns.
//
// The hourly rollups hold one row per hour and attribution context, about a million rows for 10M
// events: summing a month of them takes seconds. Ranges longer than two days are therefore read
// per local day, each closed day folded once into its contexts (a few thousand rows) and kept in
// memory; the day still running, and short ranges, are read live. A closed day is refolded after
// STALE_MS, so a payment backfilled into last week shows up within minutes.
import type { Database } from "bun:sqlite";
import type { DashboardRequest } from "../routing.ts";
import { addDays, localDate, startOfLocalDay } from "../range.ts";
import { DAY_MS, HOUR_MS, type TimeRange } from "./time.ts";
import { DIMENSIONS, trafficBy, trafficByHour, trafficTotals, type ContextFilter, type Dimension, type Traffic } from "./traffic.sql.ts";
import { revenueBy, revenueByHour, revenueTotals, type Revenue } from "./payments.sql.ts";

const STALE_MS = 5 * 60_000;
const CONTEXT_COLUMNS = Object.values(DIMENSIONS);

type Context = Record<Dimension, string>;
interface TrafficRow extends Traffic {
  context: Context;
}
interface RevenueRow {
  model: "last" | "first";
  context: Context;
  currency: string;
  payments: number;
  revenue: number;
  refunds: number;
}
interface Day {
  start: number;
  end: number;
  traffic: TrafficRow[];
  revenue: RevenueRow[];
}

const FOLD_TRAFFIC = `SELECT ${CONTEXT_COLUMNS.join(", ")}, sum(clicks) AS clicks, sum(visitors) AS visitors, sum(sessions) AS sessions,
  sum(pageviews) AS pageviews, sum(pricing_views) AS pricingViews, sum(signups) AS signups
  FROM context_stats_hourly WHERE project_id = ? AND hour >= ? AND hour < ? GROUP BY ${CONTEXT_COLUMNS.join(", ")}`;
const FOLD_REVENUE = `SELECT model, ${CONTEXT_COLUMNS.join(", ")}, currency, sum(payments) AS payments, sum(revenue) AS revenue, sum(refunds) AS refunds
  FROM payment_stats_hourly WHERE project_id = ? AND hour >= ? AND hour < ? GROUP BY model, ${CONTEXT_COLUMNS.join(", ")}, currency`;

type ContextColumnsRow = Record<(typeof CONTEXT_COLUMNS)[number], string>;
function contextOf(row: ContextColumnsRow): Context {
  const context = {} as Context;
  for (const [dimension, column] of Object.entries(DIMENSIONS)) context[dimension as Dimension] = row[column];
  return context;
}

function fold(db: Database, projectId: string, start: number, end: number): Day {
  const traffic = db
    .query<ContextColumnsRow & Traffic, [string, number, number]>(FOLD_TRAFFIC)
    .all(projectId, start, end)
    .map((r) => ({ context: contextOf(r), clicks: r.clicks, visitors: r.visitors, sessions: r.sessions, pageviews: r.pageviews, pricingViews: r.pricingViews, signups: r.signups }));
  const revenue = db
    .query<ContextColumnsRow & Omit<RevenueRow, "context">, [string, number, number]>(FOLD_REVENUE)
    .all(projectId, start, end)
    .map((r) => ({ model: r.model, context: contextOf(r), currency: r.currency, payments: r.payments, revenue: r.revenue, refunds: r.refunds }));
  return { start, end, traffic, revenue };
}

const folded = new WeakMap<Database, Map<string, { at: number; day: Day }>>();

/** The range's local days, each folded (from memory when closed and fresh). Null for short ranges. */
function days(db: Database, projectId: string, range: TimeRange, timeZone: string, now: number): Day[] | null {
  if (range.to - range.from <= 2 * DAY_MS) return null;
  let cache = folded.get(db);
  if (!cache) folded.set(db, (cache = new Map()));
  const out: Day[] = [];
  for (let date = localDate(range.from, timeZone), start = startOfLocalDay(date, timeZone); start < range.to; ) {
    const nextDate = addDays(date, 1);
    const end = Math.min(startOfLocalDay(nextDate, timeZone), range.to);
    // Rollup hours are whole UTC hours: a day must start and end on one to be folded exactly.
    if (start % HOUR_MS !== 0 || end % HOUR_MS !== 0 || start < range.from) return null;
    if (end + HOUR_MS > now) out.push(fold(db, projectId, start, end));
    else {
      const key = `${projectId}|${start}|${end}`;
      const hit = cache.get(key);
      if (hit && now - hit.at < STALE_MS) out.push(hit.day);
      else {
        const day = fold(db, projectId, start, end);
        cache.set(key, { at: now, day });
        out.push(day);
      }
    }
    date = nextDate;
    start = end;
  }
  return out;
}

function matches(context: Context, filter: ContextFilter): boolean {
  for (const [dimension, value] of Object.entries(filter)) if (context[dimension as Dimension] !== value) return false;
  return true;
}

const emptyTraffic = (): Traffic => ({ clicks: 0, visitors: 0, sessions: 0, pageviews: 0, pricingViews: 0, signups: 0 });
function addTraffic(total: Traffic, row: Traffic): void {
  total.clicks += row.clicks;
  total.visitors += row.visitors;
  total.sessions += row.sessions;
  total.pageviews += row.pageviews;
  total.pricingViews += row.pricingViews;
  total.signups += row.signups;
}

export interface RollupQuery {
  db: Database;
  projectId: string;
  range: TimeRange;
  timeZone: string;
  now: number;
  filter?: ContextFilter;
}

export function traffic(q: RollupQuery): Traffic {
  const list = days(q.db, q.projectId, q.range, q.timeZone, q.now);
  if (!list) return trafficTotals(q.db, q.projectId, q.range, q.filter);
  const total = emptyTraffic();
  for (const day of list) for (const row of day.traffic) if (matches(row.context, q.filter ?? {})) addTraffic(total, row);
  return total;
}

/** Rows per hour (short ranges) or per local day, `hour` being the bucket's start: what `bucketize` takes. */
export function trafficSeries(q: RollupQuery): (Traffic & { hour: number })[] {
  const list = days(q.db, q.projectId, q.range, q.timeZone, q.now);
  if (!list) return trafficByHour(q.db, q.projectId, q.range, q.filter);
  return list.map((day) => {
    const total = { hour: day.start, ...emptyTraffic() };
    for (const row of day.traffic) if (matches(row.context, q.filter ?? {})) addTraffic(total, row);
    return total;
  });
}

export function trafficByKey(q: RollupQuery, dimension: Dimension): (Traffic & { key: string })[] {
  const list = days(q.db, q.projectId, q.range, q.timeZone, q.now);
  if (!list) return trafficBy(q.db, q.projectId, q.range, dimension, q.filter);
  const byKey = new Map<string, Traffic & { key: string }>();
  for (const day of list) {
    for (const row of day.traffic) {
      if (!matches(row.context, q.filter ?? {})) continue;
      const key = row.context[dimension];
      let total = byKey.get(key);
      if (!total) byKey.set(key, (total = { key, ...emptyTraffic() }));
      addTraffic(total, row);
    }
  }
  return [...byKey.values()].sort((a, b) => b.clicks - a.clicks || b.visitors - a.visitors);
}

function sumRevenue(rows: Iterable<RevenueRow & { group: string }>): Map<string, Revenue & { group: string }> {
  const out = new Map<string, Revenue & { group: string }>();
  for (const row of rows) {
    const key = `${row.group}\u0000${row.currency}`;
    let total = out.get(key);
    if (!total) out.set(key, (total = { group: row.group, currency: row.currency, payments: 0, revenue: 0, refunds: 0, net: 0 }));
    total.payments += row.payments;
    total.revenue += row.revenue;
    total.refunds += row.refunds;
    total.net += row.revenue - row.refunds;
  }
  return out;
}

function* revenueRows(list: Day[], model: "last" | "first", filter: ContextFilter, group: (row: RevenueRow, day: Day) => string) {
  for (const day of list) for (const row of day.revenue) if (row.model === model && matches(row.context, filter)) yield { ...row, group: group(row, day) };
}

/** Per currency, the reporting currency first. Never summed across currencies. */
export function revenue(q: RollupQuery, reportingCurrency: string): Revenue[] {
  const list = days(q.db, q.projectId, q.range, q.timeZone, q.now);
  if (!list) return revenueTotals(q.db, q.projectId, q.range, q.filter ?? {}, reportingCurrency);
  return [...sumRevenue(revenueRows(list, "last", q.filter ?? {}, () => "")).values()]
    .map(({ group: _, ...r }) => r)
    .sort((a, b) => Number(b.currency === reportingCurrency) - Number(a.currency === reportingCurrency) || b.net - a.net);
}

export function revenueSeries(q: RollupQuery): (Revenue & { hour: number })[] {
  const list = days(q.db, q.projectId, q.range, q.timeZone, q.now);
  if (!list) return revenueByHour(q.db, q.projectId, q.range, q.filter ?? {});
  return [...sumRevenue(revenueRows(list, "last", q.filter ?? {}, (_, day) => String(day.start))).values()].map(({ group, ...r }) => ({ hour: Number(group), ...r }));
}

export function revenueByKey(q: RollupQuery, dimension: Dimension, model: "last" | "first"): (Revenue & { key: string })[] {
  const list = days(q.db, q.projectId, q.range, q.timeZone, q.now);
  if (!list) return revenueBy(q.db, q.projectId, q.range, dimension, model);
  return [...sumRevenue(revenueRows(list, model, q.filter ?? {}, (row) => row.context[dimension])).values()].map(({ group, ...r }) => ({ key: group, ...r }));
}

/** The query of a page: its project, range and URL filters; `overrides` narrow or move it. */
export function rollupQuery(req: DashboardRequest, overrides: Partial<RollupQuery> = {}): RollupQuery {
  return { db: req.ctx.db, projectId: req.project.id, range: req.range, timeZone: req.range.timezone, now: req.ctx.now(), filter: req.range.filters, ...overrides };
}

/** The same query over the period just before (for "change vs previous period"). */
export function previous(q: RollupQuery, req: DashboardRequest): RollupQuery {
  return { ...q, range: { from: req.range.previousFrom, to: req.range.previousTo } };
}
