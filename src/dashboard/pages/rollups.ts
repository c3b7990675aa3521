// What every data page reads: traffic and revenue for a range, totals, series and breakdowns.
//
// The hourly rollups hold one row per hour and attribution context, about a million rows for 10M
// events: summing a month of them takes seconds. Ranges longer than two days are therefore read
// per local day, each closed day folded once into its contexts (a few thousand rows) and kept in
// memory; short ranges are read live. A closed day is refolded after STALE_MS, so a payment
// backfilled into last week shows up within minutes; the day still running after OPEN_DAY_MS.
import type { Database } from "bun:sqlite";
import type { DashboardRequest } from "../routing.ts";
import { addDays, localDate, startOfLocalDay } from "../range.ts";
import { DAY_MS, HOUR_MS, type Buckets, type TimeRange } from "./time.ts";
import { DIMENSIONS, trafficByHour, trafficTotals, type ContextFilter, type Dimension, type Traffic } from "./traffic.sql.ts";
import { revenueByHour, revenueTotals, type Revenue } from "./payments.sql.ts";
import { peopleQuery, visitorsPerBucket, type Model, type PeopleQuery } from "../../reports/people/index.ts";
import { hasFreshWindow, warmPeopleWindow } from "../../reports/people/windows.ts";

const STALE_MS = 5 * 60_000;
// The day still running is refolded at most this often: a page reads it several times per request.
const OPEN_DAY_MS = 10_000;
// About a year of days for a few projects; a day is a few thousand small rows.
const MAX_DAYS = 1500;
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
  reportingNet: number;
  unconverted: number;
}
interface Day {
  start: number;
  end: number;
  traffic: TrafficRow[];
  revenue: RevenueRow[];
  /** Indexes built on first use: per dimension value (or "" for the whole day), and event counts. */
  memo: Map<string, unknown>;
}

const FOLD_TRAFFIC = `SELECT ${CONTEXT_COLUMNS.join(", ")}, sum(clicks) AS clicks, sum(sessions) AS sessions,
  sum(pageviews) AS pageviews, sum(pricing_views) AS pricingViews, sum(signups) AS signups, sum(signups_started) AS signupsStarted
  FROM context_stats_hourly WHERE project_id = ? AND hour >= ? AND hour < ? GROUP BY ${CONTEXT_COLUMNS.join(", ")}`;
const FOLD_REVENUE = `SELECT model, ${CONTEXT_COLUMNS.join(", ")}, currency, sum(payments) AS payments, sum(revenue) AS revenue, sum(refunds) AS refunds,
  sum(reporting_revenue) - sum(reporting_refunds) AS reportingNet, sum(unconverted) AS unconverted
  FROM payment_stats_hourly WHERE project_id = ? AND model IN ('last', 'first') AND hour >= ? AND hour < ? GROUP BY model, ${CONTEXT_COLUMNS.join(", ")}, currency`;

type ContextColumnsRow = Record<(typeof CONTEXT_COLUMNS)[number], string>;
function contextOf(row: ContextColumnsRow): Context {
  const context = {} as Context;
  for (const [dimension, column] of Object.entries(DIMENSIONS)) context[dimension as Dimension] = row[column];
  return context;
}

// A whole UTC day is already summed in the period rollups (grain 'day', written by bumpRollup beside the hourly row):
// 24x fewer rows. (The revenue keys start with the model: naming both keeps the read a range, not a scan.)
const FOLD_TRAFFIC_DAILY = FOLD_TRAFFIC.replace("context_stats_hourly", "context_stats_periods").replace("hour >= ? AND hour < ?", "grain = 'day' AND period >= ? AND period < ?");
const FOLD_REVENUE_DAILY = FOLD_REVENUE.replace("payment_stats_hourly", "payment_stats_periods").replace("hour >= ? AND hour < ?", "grain = 'day' AND period >= ? AND period < ?");

function fold(db: Database, projectId: string, start: number, end: number): Day {
  const utcDay = start % DAY_MS === 0 && end - start === DAY_MS;
  const traffic = db
    .query<ContextColumnsRow & Traffic, [string, number, number]>(utcDay ? FOLD_TRAFFIC_DAILY : FOLD_TRAFFIC)
    .all(projectId, start, end)
    .map((r) => ({ context: contextOf(r), clicks: r.clicks, sessions: r.sessions, pageviews: r.pageviews, pricingViews: r.pricingViews, signups: r.signups, signupsStarted: r.signupsStarted }));
  const revenue = db
    .query<ContextColumnsRow & Omit<RevenueRow, "context">, [string, number, number]>(utcDay ? FOLD_REVENUE_DAILY : FOLD_REVENUE)
    .all(projectId, start, end)
    .map((r) => ({ model: r.model, context: contextOf(r), currency: r.currency, payments: r.payments, revenue: r.revenue, refunds: r.refunds, reportingNet: r.reportingNet, unconverted: r.unconverted }));
  return { start, end, traffic, revenue, memo: new Map() };
}

const contextKey = (context: Context) => Object.values(context).join("\u0000");

/**
 * The same fold as `fold`, read from the hourly rollups `sliceHours` hours at a time with `pause()`
 * awaited between slices: a background warm-up folds a day without holding the event loop for
 * more than one slice (a few ms on a 10M-event database).
 */
export async function foldInSlices(db: Database, projectId: string, start: number, end: number, pause: () => Promise<unknown>, sliceHours = 2): Promise<Day> {
  const traffic = new Map<string, TrafficRow>();
  const revenue = new Map<string, RevenueRow>();
  for (let from = start; from < end; from += sliceHours * HOUR_MS) {
    const to = Math.min(end, from + sliceHours * HOUR_MS);
    for (const r of db.query<ContextColumnsRow & Traffic, [string, number, number]>(FOLD_TRAFFIC).all(projectId, from, to)) {
      const context = contextOf(r);
      const key = contextKey(context);
      let row = traffic.get(key);
      if (!row) traffic.set(key, (row = { context, ...emptyTraffic() }));
      addTraffic(row, r);
    }
    for (const r of db.query<ContextColumnsRow & Omit<RevenueRow, "context">, [string, number, number]>(FOLD_REVENUE).all(projectId, from, to)) {
      const context = contextOf(r);
      const key = `${r.model}|${r.currency}|${contextKey(context)}`;
      let row = revenue.get(key);
      if (!row) revenue.set(key, (row = { model: r.model, context, currency: r.currency, payments: 0, revenue: 0, refunds: 0, reportingNet: 0, unconverted: 0 }));
      row.payments += r.payments;
      row.revenue += r.revenue;
      row.refunds += r.refunds;
      row.reportingNet += r.reportingNet;
      row.unconverted += r.unconverted;
    }
    await pause();
  }
  return { start, end, traffic: [...traffic.values()], revenue: [...revenue.values()], memo: new Map() };
}

function memo<T>(day: Day, key: string, build: () => T): T {
  let value = day.memo.get(key) as T | undefined;
  if (value === undefined) day.memo.set(key, (value = build()));
  return value;
}

/** The day's traffic per value of `dimension` (null: the whole day under key ""). */
function dayTraffic(day: Day, dimension: Dimension | null): Map<string, Traffic> {
  return memo(day, `t|${dimension}`, () => {
    const out = new Map<string, Traffic>();
    for (const row of day.traffic) {
      const key = dimension ? row.context[dimension] : "";
      let total = out.get(key);
      if (!total) out.set(key, (total = emptyTraffic()));
      addTraffic(total, row);
    }
    return out;
  });
}

/** The day's revenue per value of `dimension` (null: whole day) and currency. */
function dayRevenue(day: Day, model: "last" | "first", dimension: Dimension | null): Map<string, Map<string, Revenue>> {
  return memo(day, `r|${model}|${dimension}`, () => {
    const out = new Map<string, Map<string, Revenue>>();
    for (const row of day.revenue) {
      if (row.model !== model) continue;
      const key = dimension ? row.context[dimension] : "";
      let currencies = out.get(key);
      if (!currencies) out.set(key, (currencies = new Map()));
      addRevenue(currencies, row);
    }
    return out;
  });
}

function addRevenue(into: Map<string, Revenue>, row: Omit<Revenue, "net">): void {
  let total = into.get(row.currency);
  if (!total) into.set(row.currency, (total = { currency: row.currency, payments: 0, revenue: 0, refunds: 0, net: 0, reportingNet: 0, unconverted: 0 }));
  total.payments += row.payments;
  total.revenue += row.revenue;
  total.refunds += row.refunds;
  total.net += row.revenue - row.refunds;
  total.reportingNet += row.reportingNet;
  total.unconverted += row.unconverted;
}

const folded = new WeakMap<Database, Map<string, { at: number; day: Day }>>();

function foldCache(db: Database): Map<string, { at: number; day: Day }> {
  let cache = folded.get(db);
  if (!cache) folded.set(db, (cache = new Map()));
  return cache;
}

/** Forgets every folded day: converted money changed under them (history re-converted into a new reporting currency). */
export function forgetFolds(db: Database): void {
  folded.get(db)?.clear();
}

function remember(cache: Map<string, { at: number; day: Day }>, key: string, at: number, day: Day): void {
  cache.delete(key);
  cache.set(key, { at, day });
  // Bounded memory: past MAX_DAYS folded days, forget the ones folded longest ago.
  for (const oldest of cache.keys()) {
    if (cache.size <= MAX_DAYS) break;
    cache.delete(oldest);
  }
}

/** The local days from `from` to `to` (the last one cut at `to`); null when one does not start and end on a whole UTC hour. */
function localDays(from: number, to: number, timeZone: string): { start: number; end: number }[] | null {
  const out: { start: number; end: number }[] = [];
  for (let date = localDate(from, timeZone), start = startOfLocalDay(date, timeZone); start < to; ) {
    const nextDate = addDays(date, 1);
    const end = Math.min(startOfLocalDay(nextDate, timeZone), to);
    // Rollup hours are whole UTC hours: a day must start and end on one to be folded exactly.
    if (start % HOUR_MS !== 0 || end % HOUR_MS !== 0 || start < from) return null;
    out.push({ start, end });
    date = nextDate;
    start = end;
  }
  return out;
}

const foldKey = (projectId: string, start: number, end: number) => `${projectId}|${start}|${end}`;
const maxAge = (end: number, now: number) => (end + HOUR_MS > now ? OPEN_DAY_MS : STALE_MS);

/** The range's local days, each folded (from memory when closed and fresh). Null for short ranges. */
function days(db: Database, projectId: string, range: TimeRange, timeZone: string, now: number): Day[] | null {
  if (range.to - range.from <= 2 * DAY_MS) return null;
  const bounds = localDays(range.from, range.to, timeZone);
  if (!bounds) return null;
  const cache = foldCache(db);
  return bounds.map(({ start, end }) => {
    const key = foldKey(projectId, start, end);
    const hit = cache.get(key);
    if (hit && now - hit.at < maxAge(end, now) && now >= hit.at) return hit.day;
    const day = fold(db, projectId, start, end);
    remember(cache, key, now, day);
    return day;
  });
}

/**
 * Folds the closed local days of the `count` days before `now` that are missing from memory or
 * would go stale within `refreshWithinMs`, newest first, in slices (see `foldInSlices`), so pages
 * read them from memory from their first view. Returns how many days it folded.
 */
export async function warmDays(
  db: Database,
  projectId: string,
  timeZone: string,
  count: number,
  now: () => number,
  pause: () => Promise<unknown>,
  refreshWithinMs = STALE_MS / 2,
  onDay: () => void = () => {},
): Promise<number> {
  const today = startOfLocalDay(localDate(now(), timeZone), timeZone);
  const bounds = localDays(startOfLocalDay(addDays(localDate(now(), timeZone), -count), timeZone), today, timeZone);
  if (!bounds) return 0;
  const cache = foldCache(db);
  let warmed = 0;
  for (const { start, end } of bounds.reverse()) {
    onDay();
    const key = foldKey(projectId, start, end);
    const at = now();
    if (end + HOUR_MS > at) continue;
    // Who was there that day, read from the raw journey (one query; kept until a late write touches the day).
    if (!hasFreshWindow(db, projectId, start, end, at)) await warmPeopleWindow(db, projectId, start, end, at, pause);
    const hit = cache.get(key);
    if (hit && at >= hit.at && at - hit.at < STALE_MS - refreshWithinMs) continue;
    const day = await foldInSlices(db, projectId, start, end, pause);
    // Stamped with the fold's start: a write that landed during the fold is picked up when this goes stale.
    remember(cache, key, at, day);
    warmed++;
  }
  return warmed;
}

const emptyTraffic = (): Traffic => ({ clicks: 0, sessions: 0, pageviews: 0, pricingViews: 0, signups: 0, signupsStarted: 0 });
function addTraffic(total: Traffic, row: Traffic): void {
  total.clicks += row.clicks;
  total.sessions += row.sessions;
  total.pageviews += row.pageviews;
  total.pricingViews += row.pricingViews;
  total.signups += row.signups;
  total.signupsStarted += row.signupsStarted;
}

export interface RollupQuery {
  db: Database;
  projectId: string;
  range: TimeRange;
  timeZone: string;
  now: number;
  /** The project's reporting currency. */
  currency: string;
  /** Whether renewals count in revenue totals (project setting). */
  countRenewals?: boolean;
  filter?: ContextFilter;
}

/**
 * How a filter reads a folded day: none (whole day), one dimension (an index lookup), or several
 * (a walk over the day's contexts, for the rare URL that combines filters).
 */
type Selector = { kind: "all" } | { kind: "one"; dimension: Dimension; value: string } | { kind: "rows"; test: (context: Context) => boolean };

function selector(filter: ContextFilter = {}): Selector {
  const entries = Object.entries(filter) as [Dimension, string][];
  if (entries.length === 0) return { kind: "all" };
  if (entries.length === 1) return { kind: "one", dimension: entries[0]![0], value: entries[0]![1] };
  return { kind: "rows", test: (context) => entries.every(([dimension, value]) => context[dimension] === value) };
}

function dayTrafficTotal(day: Day, select: Selector): Traffic {
  if (select.kind === "all") return dayTraffic(day, null).get("") ?? emptyTraffic();
  if (select.kind === "one") return dayTraffic(day, select.dimension).get(select.value) ?? emptyTraffic();
  const total = emptyTraffic();
  for (const row of day.traffic) if (select.test(row.context)) addTraffic(total, row);
  return total;
}

function dayRevenueTotal(day: Day, model: "last" | "first", select: Selector): Iterable<Revenue> {
  if (select.kind === "all") return dayRevenue(day, model, null).get("")?.values() ?? [];
  if (select.kind === "one") return dayRevenue(day, model, select.dimension).get(select.value)?.values() ?? [];
  const out = new Map<string, Revenue>();
  for (const row of day.revenue) if (row.model === model && select.test(row.context)) addRevenue(out, row);
  return out.values();
}

export function traffic(q: RollupQuery): Traffic {
  const list = days(q.db, q.projectId, q.range, q.timeZone, q.now);
  if (!list) return trafficTotals(q.db, q.projectId, q.range, q.filter);
  const select = selector(q.filter);
  const total = emptyTraffic();
  for (const day of list) addTraffic(total, dayTrafficTotal(day, select));
  return total;
}

/** Rows per hour (short ranges) or per local day, `hour` being the bucket's start: what `bucketize` takes. */
export function trafficSeries(q: RollupQuery): (Traffic & { hour: number })[] {
  const list = days(q.db, q.projectId, q.range, q.timeZone, q.now);
  if (!list) return trafficByHour(q.db, q.projectId, q.range, q.filter);
  const select = selector(q.filter);
  return list.map((day) => ({ hour: day.start, ...dayTrafficTotal(day, select) }));
}


/** Per currency, the reporting currency first. Never summed across currencies. */
export function revenue(q: RollupQuery, reportingCurrency: string): Revenue[] {
  const list = days(q.db, q.projectId, q.range, q.timeZone, q.now);
  if (!list) return revenueTotals(q.db, q.projectId, q.range, q.filter ?? {}, reportingCurrency);
  const select = selector(q.filter);
  const out = new Map<string, Revenue>();
  for (const day of list) for (const row of dayRevenueTotal(day, "last", select)) addRevenue(out, row);
  return [...out.values()].sort((a, b) => Number(b.currency === reportingCurrency) - Number(a.currency === reportingCurrency) || b.net - a.net);
}

export function revenueSeries(q: RollupQuery): (Revenue & { hour: number })[] {
  const list = days(q.db, q.projectId, q.range, q.timeZone, q.now);
  if (!list) return revenueByHour(q.db, q.projectId, q.range, q.filter ?? {});
  const select = selector(q.filter);
  return list.flatMap((day) => [...dayRevenueTotal(day, "last", select)].map((row) => ({ hour: day.start, ...row })));
}


/** The query of a page: its project, range and URL filters; `overrides` narrow or move it. */
export function rollupQuery(req: DashboardRequest, overrides: Partial<RollupQuery> = {}): RollupQuery {
  return {
    db: req.ctx.db,
    projectId: req.project.id,
    range: req.range,
    timeZone: req.range.timezone,
    now: req.ctx.now(),
    currency: req.project.currency,
    countRenewals: req.project.countRenewals,
    filter: req.range.filters,
    ...overrides,
  };
}

/** The same range and filters, for counting people (SPEC §10). */
export function peopleOf(q: RollupQuery, model: Model = "last"): PeopleQuery {
  return peopleQuery({ db: q.db, projectId: q.projectId, from: q.range.from, to: q.range.to, timeZone: q.timeZone, now: q.now, filter: q.filter, model });
}

/** Distinct visitors in each of a chart's buckets (an hour or a local day), as the chart takes its points. */
export function visitorSeries(q: RollupQuery, buckets: Buckets): { t: number; value: number }[] {
  const counts = visitorsPerBucket(peopleOf(q), buckets.starts.length, (w) => buckets.indexOf(w.start));
  return buckets.starts.map((t, i) => ({ t, value: counts[i]! }));
}

/** The same query over the period just before (for "change vs previous period"). */
export function previous(q: RollupQuery, req: DashboardRequest): RollupQuery {
  return { ...q, range: { from: req.range.previousFrom, to: req.range.previousTo } };
}
