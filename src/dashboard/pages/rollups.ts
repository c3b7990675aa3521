// What every data page reads: traffic and revenue for a range, totals, series and breakdowns.
// Ranges longer than two days are summed from the days folded in memory (reports/days.ts), shorter
// ones read live from the hourly rollups.
//
// On SQLite all of it reads on a miss, synchronously, as it always did. On PostgreSQL a page first
// awaits `primeRollups` for each query it renders (prime, then compute: src/reports/source.ts): the
// people windows, the persons map and the folded days or rollup-table sums of its summary, and for
// ranges not folded into days the hourly rows its series and totals sum. Then the same functions
// compute from memory.
import type { DashboardRequest } from "../routing.ts";
import type { Buckets, TimeRange } from "./time.ts";
import { rollupWhere, trafficByHour, trafficByHourFrom, trafficTotals, type ContextFilter, type Dimension, type Traffic } from "./traffic.sql.ts";
import { revenueByHour, revenueByHourSql, revenueTotals, type Revenue } from "./payments.sql.ts";
import { peopleQuery, visitorsPerBucket, type Model, type PeopleQuery } from "../../reports/people/index.ts";
import { addMoneyByCurrency, addTraffic, dayMoney, dayRowsMatching, dayTraffic, emptyTraffic, foldedDays, foldsDays, type Day, type MoneySums } from "../../reports/days.ts";
import { primeReport } from "../../reports/prime.ts";
import { NotPrimed, PostgresReports, reportDb, type ReportDb } from "../../reports/source.ts";
import { postgresText } from "../../db/postgres/dialect.ts";
import type { Storage } from "../../db/storage/storage.ts";
import type { Database } from "bun:sqlite";

/** `Db`: what it reads through (src/reports/source.ts); tests on SQLite name `Database` to write beside it. */
export interface RollupQuery<Db extends ReportDb = ReportDb> {
  db: Db;
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
  if (!list && q.db instanceof PostgresReports) {
    const total = emptyTraffic();
    for (const row of primedHours(q.db, q).traffic) addTraffic(total, row);
    return total;
  }
  if (!list) return trafficTotals(q.db as Database, q.projectId, q.range, q.filter);
  const select = selector(q.filter);
  const total = emptyTraffic();
  for (const day of list) addTraffic(total, dayTrafficTotal(day, select));
  return total;
}

/** Rows per hour (short ranges) or per local day, `hour` being the bucket's start: what `bucketize` takes. */
export function trafficSeries(q: RollupQuery): (Traffic & { hour: number })[] {
  const list = days(q);
  if (!list) return q.db instanceof PostgresReports ? primedHours(q.db, q).traffic : trafficByHour(q.db, q.projectId, q.range, q.filter);
  const select = selector(q.filter);
  return list.map((day) => ({ hour: day.start, ...dayTrafficTotal(day, select) }));
}

/** Per currency, the reporting currency first. Never summed across currencies. */
export function revenue(q: RollupQuery, reportingCurrency: string): Revenue[] {
  const list = days(q);
  const inOrder = (rows: Revenue[]) => rows.sort((a, b) => Number(b.currency === reportingCurrency) - Number(a.currency === reportingCurrency) || b.net - a.net);
  if (!list && q.db instanceof PostgresReports) return inOrder(revenueByCurrency(primedHours(q.db, q).revenue));
  if (!list) return revenueTotals(q.db as Database, q.projectId, q.range, q.filter ?? {}, reportingCurrency);
  const select = selector(q.filter);
  const out = new Map<string, MoneySums>();
  for (const day of list) for (const row of dayRevenueTotal(day, select)) addMoneyByCurrency(out, row);
  return inOrder([...out.values()].map(revenueOf));
}

export function revenueSeries(q: RollupQuery): (Revenue & { hour: number })[] {
  const list = days(q);
  if (!list) return q.db instanceof PostgresReports ? primedHours(q.db, q).revenue : revenueByHour(q.db, q.projectId, q.range, q.filter ?? {});
  const select = selector(q.filter);
  return list.flatMap((day) => [...dayRevenueTotal(day, select)].map((row) => ({ hour: day.start, ...revenueOf(row) })));
}

/** The query of a page: its project, range and URL filters; `overrides` narrow or move it. */
export function rollupQuery(req: DashboardRequest, overrides: Partial<RollupQuery> = {}): RollupQuery {
  return {
    db: reportDb(req.ctx),
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

/** PostgreSQL: the hourly rows a range not folded into days sums (its series, and its totals from them). */
interface Hours {
  traffic: (Traffic & { hour: number })[];
  revenue: (Revenue & { hour: number })[];
}

/** Read by the last prime, per notes key and query; the last few only. */
const primedHourRows = new WeakMap<object, Map<string, Hours>>();
const MAX_PRIMED_HOURS = 50;
const hoursKey = (q: RollupQuery) => JSON.stringify([q.projectId, q.range.from, q.range.to, q.filter ?? {}]);

function primedHours(db: PostgresReports, q: RollupQuery): Hours {
  const hours = primedHourRows.get(db.notes)?.get(hoursKey(q));
  if (!hours) throw new NotPrimed("the hourly rollups of a page's range");
  return hours;
}

/** Per currency, summed over the hours: what `revenueTotals` sums in one read. */
function revenueByCurrency(rows: Revenue[]): Revenue[] {
  const out = new Map<string, Revenue>();
  for (const { hour: _hour, ...row } of rows as (Revenue & { hour?: number })[]) {
    const total = out.get(row.currency);
    if (!total) out.set(row.currency, { ...row });
    else for (const key of ["payments", "revenue", "refunds", "net", "reportingNet", "unconverted"] as const) total[key] += row[key];
  }
  return [...out.values()];
}

async function readHours(storage: Storage, q: RollupQuery): Promise<Hours> {
  const w = rollupWhere(q.projectId, q.range, q.filter ?? {});
  const [traffic, revenue] = await Promise.all([
    trafficByHourFrom(storage, q.projectId, q.range, q.filter),
    storage.all<Revenue & { hour: number }>(postgresText(revenueByHourSql(w.sql)), w.params),
  ]);
  return { traffic, revenue };
}

/**
 * Loads what the functions above read for `q` (nothing on SQLite, which reads on a miss): the people
 * windows and persons map (`peopleOf`, `visitorSeries`), the summary's folded days or table sums
 * (`summaryOf`), and, for a range not folded into days, the hourly rows (`traffic`, `revenue` and their
 * series), read again at every prime as SQLite reads them at every view. `series: false` when only the
 * summary is shown (the period before, a top table).
 */
export async function primeRollups(q: RollupQuery, options: { series?: boolean } = {}): Promise<void> {
  const db = q.db;
  if (!(db instanceof PostgresReports)) return;
  const range = { projectId: q.projectId, from: q.range.from, to: q.range.to, timeZone: q.timeZone, now: q.now };
  const series = options.series !== false && !foldsDays(q.range.from, q.range.to, q.timeZone);
  const [, hours] = await Promise.all([primeReport(db, range, [{ groupBy: null, filter: q.filter }]), series ? readHours(db.storage, q) : null]);
  if (!hours) return;
  let kept = primedHourRows.get(db.notes);
  if (!kept) primedHourRows.set(db.notes, (kept = new Map()));
  const key = hoursKey(q);
  kept.delete(key);
  kept.set(key, hours);
  for (const oldest of kept.keys()) {
    if (kept.size <= MAX_PRIMED_HOURS) break;
    kept.delete(oldest);
  }
}
