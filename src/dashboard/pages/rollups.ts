// What every data page reads: traffic and revenue for a range, totals, series and breakdowns.
// Ranges longer than two days are summed from the days folded in memory (reports/days.ts), shorter
// ones read live from the hourly rollups.
import type { DashboardRequest } from "../routing.ts";
import type { Database } from "bun:sqlite";
import type { Buckets, TimeRange } from "./time.ts";
import { trafficByHour, trafficTotals, type ContextFilter, type Dimension, type Traffic } from "./traffic.sql.ts";
import { revenueByHour, revenueTotals, type Revenue } from "./payments.sql.ts";
import { peopleQuery, visitorsPerBucket, type Model, type PeopleQuery } from "../../reports/people/index.ts";
import { addMoneyByCurrency, addTraffic, dayMoney, dayRowsMatching, dayTraffic, emptyTraffic, foldedDays, type Day, type MoneySums } from "../../reports/days.ts";

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
type Selector = { kind: "all" } | { kind: "one"; dimension: Dimension; value: string } | { kind: "rows"; filter: [Dimension, string][] };

function selector(filter: ContextFilter = {}): Selector {
  const entries = Object.entries(filter) as [Dimension, string][];
  if (entries.length === 0) return { kind: "all" };
  if (entries.length === 1) return { kind: "one", dimension: entries[0]![0], value: entries[0]![1] };
  return { kind: "rows", filter: entries };
}

function dayTrafficTotal(day: Day, select: Selector): Traffic {
  if (select.kind === "all") return dayTraffic(day, null).get("") ?? emptyTraffic();
  if (select.kind === "one") return dayTraffic(day, select.dimension).get(select.value) ?? emptyTraffic();
  const total = emptyTraffic();
  for (const row of dayRowsMatching(day, select.filter).traffic) addTraffic(total, row);
  return total;
}

function dayRevenueTotal(day: Day, select: Selector): Iterable<MoneySums> {
  if (select.kind === "all") return dayMoney(day, "last", null).get("")?.values() ?? [];
  if (select.kind === "one") return dayMoney(day, "last", select.dimension).get(select.value)?.values() ?? [];
  const out = new Map<string, MoneySums>();
  for (const row of dayRowsMatching(day, select.filter).money) if (row.model === "last") addMoneyByCurrency(out, row);
  return out.values();
}

const revenueOf = (m: MoneySums): Revenue => ({
  currency: m.currency,
  payments: m.payments,
  revenue: m.revenue,
  refunds: m.refunds,
  net: m.revenue - m.refunds,
  reportingNet: m.reportingRevenue - m.reportingRefunds,
  unconverted: m.unconverted,
});
const days = (q: RollupQuery) => foldedDays(q.db, q.projectId, q.range.from, q.range.to, q.timeZone, q.now);

export function traffic(q: RollupQuery): Traffic {
  const list = days(q);
  if (!list) return trafficTotals(q.db, q.projectId, q.range, q.filter);
  const select = selector(q.filter);
  const total = emptyTraffic();
  for (const day of list) addTraffic(total, dayTrafficTotal(day, select));
  return total;
}

/** Rows per hour (short ranges) or per local day, `hour` being the bucket's start: what `bucketize` takes. */
export function trafficSeries(q: RollupQuery): (Traffic & { hour: number })[] {
  const list = days(q);
  if (!list) return trafficByHour(q.db, q.projectId, q.range, q.filter);
  const select = selector(q.filter);
  return list.map((day) => ({ hour: day.start, ...dayTrafficTotal(day, select) }));
}

/** Per currency, the reporting currency first. Never summed across currencies. */
export function revenue(q: RollupQuery, reportingCurrency: string): Revenue[] {
  const list = days(q);
  if (!list) return revenueTotals(q.db, q.projectId, q.range, q.filter ?? {}, reportingCurrency);
  const select = selector(q.filter);
  const out = new Map<string, MoneySums>();
  for (const day of list) for (const row of dayRevenueTotal(day, select)) addMoneyByCurrency(out, row);
  return [...out.values()].map(revenueOf).sort((a, b) => Number(b.currency === reportingCurrency) - Number(a.currency === reportingCurrency) || b.net - a.net);
}

export function revenueSeries(q: RollupQuery): (Revenue & { hour: number })[] {
  const list = days(q);
  if (!list) return revenueByHour(q.db, q.projectId, q.range, q.filter ?? {});
  const select = selector(q.filter);
  return list.flatMap((day) => [...dayRevenueTotal(day, select)].map((row) => ({ hour: day.start, ...revenueOf(row) })));
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
  return peopleQuery({ db: q.db, projectId: q.projectId, from: q.range.from, to: q.range.to, timeZone: q.timeZone, now: q.now, countRenewals: q.countRenewals, filter: q.filter, model });
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
