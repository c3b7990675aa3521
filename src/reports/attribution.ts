// The attribution report (SPEC §6): one row per link, campaign, source, medium, content or lead with
// its clicks and money from the rollups, and its people (visitors, signups, customers, conversion)
// counted distinct over the range.
import type { Database } from "bun:sqlite";
import { peopleByAttribution, peopleQuery, type ContextFilter, type PeopleRange } from "./people/index.ts";

import { GROUP_BY_COLUMN, type GroupBy } from "./dimensions.ts";
import { addMoneyByCurrency, dayMoney, dayRowsMatching, dayTraffic, foldedDays, keptDays, primeFoldedDays, type Context, type Day, type MoneySums } from "./days.ts";
import { postgresText } from "../db/postgres/dialect.ts";
import type { Engine, Storage } from "../db/storage/storage.ts";
import { NotPrimed, notesKey, PostgresReports, type ReportDb } from "./source.ts";
import { primeReport } from "./prime.ts";

export { GROUP_BY, GROUP_BY_COLUMN, type GroupBy } from "./dimensions.ts";
export const MODELS = ["last", "first"] as const;
export type AttributionModel = (typeof MODELS)[number];

/** Money in one currency, minor units. */
export interface CurrencySums {
  currency: string;
  /** Sales and renewals. */
  payments: number;
  /** Net of tax. */
  revenue: number;
  /** Refunds and disputes, net of tax, as a positive amount. */
  refunds: number;
  net: number;
}

export interface AttributionReportRow {
  /** The link id, campaign id, source…; null for traffic and payments without one. */
  key: string | null;
  /** What a person reads: a link's title, a campaign's or lead's name, else the key. */
  label: string;
  clicks: number;
  visitors: number;
  /** People who completed a signup. */
  signups: number;
  /** People with a sale credited to the row in the range. */
  customers: number;
  /** People who visited with this value and bought through it ÷ people who visited with it: 0 to 1. */
  conversionRate: number;
  payments: number;
  /** In the reporting `currency`; payments in other currencies are counted in `unconverted` and kept in `byCurrency`. */
  revenue: number;
  refunds: number;
  net: number;
  /** net ÷ visitors, minor units of `currency`. */
  revenuePerVisitor: number;
  currency: string;
  byCurrency: CurrencySums[];
  /** Payments left out of `revenue` because no rate to the reporting currency is known. */
  unconverted: number;
}

export interface AttributionReportQuery {
  groupBy: GroupBy;
  /** Unix ms, inclusive (money and clicks are read per hour: floored to the hour). */
  from: number;
  /** Unix ms, exclusive. */
  to: number;
  model?: AttributionModel;
  /** Narrows the report to traffic and payments with these values. */
  filter?: ContextFilter;
}

export interface ReportProject {
  id: string;
  /** The reporting currency. */
  currency: string;
  timezone: string;
  /** Whether renewals count in revenue totals (on by default). */
  countRenewals?: boolean;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

type Grain = "hour" | "day" | "month";
interface Span {
  grain: Grain;
  from: number;
  to: number;
}

function monthStart(ms: number, offset = 0): number {
  const date = new Date(ms);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + offset, 1);
}

/** Whole UTC months from the monthly rollups, whole days from the daily ones, edge hours from the hourly ones. */
export function reportSpans(from: number, to: number): Span[] {
  const fromHour = Math.floor(from / HOUR_MS) * HOUR_MS;
  const firstDay = Math.ceil(fromHour / DAY_MS) * DAY_MS;
  const lastDay = Math.floor(to / DAY_MS) * DAY_MS;
  if (firstDay >= lastDay) return [{ grain: "hour", from: fromHour, to }];
  const firstMonth = monthStart(firstDay) === firstDay ? firstDay : monthStart(firstDay, 1);
  const lastMonth = monthStart(lastDay);
  const middle: Span[] =
    firstMonth < lastMonth
      ? [
          { grain: "day", from: firstDay, to: firstMonth },
          { grain: "month", from: firstMonth, to: lastMonth },
          { grain: "day", from: lastMonth, to: lastDay },
        ]
      : [{ grain: "day", from: firstDay, to: lastDay }];
  const spans: Span[] = [{ grain: "hour", from: fromHour, to: firstDay }, ...middle, { grain: "hour", from: lastDay, to }];
  return spans.filter((span) => span.from < span.to);
}

/** Where each grain is kept: hours in the hourly rollups, days and months in the period rollups. */
function source(span: Span, kind: "traffic" | "money"): { table: string; where: string } {
  const table = kind === "traffic" ? "context_stats" : "payment_stats";
  return span.grain === "hour"
    ? { table: `${table}_hourly`, where: "hour >= ? AND hour < ?" }
    : { table: `${table}_periods`, where: `grain = '${span.grain}' AND period >= ? AND period < ?` };
}

/** Money converted to the reporting currency (SPEC §5), and how many payments had no rate. */
export interface ReportingMoney {
  payments: number;
  revenue: number;
  refunds: number;
  net: number;
  unconverted: number;
}

export interface RollupEntry {
  clicks: number;
  byCurrency: CurrencySums[];
  reporting: ReportingMoney;
  /** The payments without a rate, per original currency. */
  unconvertedByCurrency: { currency: string; payments: number }[];
}

export const emptyEntry = (): RollupEntry => ({ clicks: 0, byCurrency: [], reporting: { payments: 0, revenue: 0, refunds: 0, net: 0, unconverted: 0 }, unconvertedByCurrency: [] });

export type SumsQuery = Omit<AttributionReportQuery, "groupBy"> & { groupBy: GroupBy | null };

/** Clicks and money per key, as the rollups hold them (before renewals are left out or money converted). */
interface KeySums {
  clicks: Map<string, number>;
  money: Map<string, Map<string, MoneySums>>;
}

/**
 * Clicks and money per key ('' = none; every row under '' without a grouping) from the rollups. With
 * `countRenewals` off, renewals leave the payment counts and revenue (the project setting). A range of
 * whole local days in `folding`'s time zone is summed from the days folded in memory (days.ts), any
 * other from the rollup tables.
 */
export function rollupSums(
  db: ReportDb,
  projectId: string,
  query: SumsQuery,
  countRenewals = true,
  folding?: { timeZone: string; now: number },
): Map<string, RollupEntry> {
  const days = folding ? foldedDays(db, projectId, query.from, query.to, folding.timeZone, folding.now) : null;
  const sums = days ? sumDays(days, query) : sumTables(db, projectId, query);
  const out = new Map<string, RollupEntry>();
  const entry = (key: string) => {
    let e = out.get(key);
    if (!e) out.set(key, (e = emptyEntry()));
    return e;
  };
  for (const [key, clicks] of sums.clicks) if (clicks > 0) entry(key).clicks = clicks;
  for (const [key, currencies] of sums.money) {
    for (const m of currencies.values()) {
      if (!(m.payments || m.revenue || m.refunds || m.unconverted)) continue;
      const e = entry(key);
      const payments = m.payments - (countRenewals ? 0 : m.renewals);
      const revenue = m.revenue - (countRenewals ? 0 : m.renewalRevenue);
      e.byCurrency.push({ currency: m.currency, payments, revenue, refunds: m.refunds, net: revenue - m.refunds });
      const reportingRevenue = m.reportingRevenue - (countRenewals ? 0 : m.reportingRenewalRevenue);
      e.reporting.payments += payments;
      e.reporting.revenue += reportingRevenue;
      e.reporting.refunds += m.reportingRefunds;
      e.reporting.net += reportingRevenue - m.reportingRefunds;
      e.reporting.unconverted += m.unconverted;
      if (m.unconverted) e.unconvertedByCurrency.push({ currency: m.currency, payments: m.unconverted });
    }
  }
  return out;
}

function sumTables(db: ReportDb, projectId: string, query: SumsQuery): KeySums {
  // PostgreSQL: as the prime read them a moment ago (primeRollupSums).
  if (db instanceof PostgresReports) {
    const sums = primedTableSums.get(notesKey(db))?.get(tableSumsKey(projectId, query));
    if (!sums) throw new NotPrimed("the rollup tables' sums");
    return sums;
  }
  const reads = tableSumsReads("sqlite", projectId, query);
  const clicks = new Map<string, number>();
  for (const t of db.query<{ key: string; clicks: number }, (string | number)[]>(reads.clicks.sql).all(...reads.clicks.params)) clicks.set(t.key, t.clicks);
  return { clicks, money: moneyByKey(db.query<MoneySums & { key: string }, (string | number)[]>(reads.money.sql).all(...reads.money.params)) };
}

/** The same sums read through a storage (PostgreSQL's prime). */
async function sumTablesFrom(storage: Storage, projectId: string, query: SumsQuery): Promise<KeySums> {
  const reads = tableSumsReads(storage.engine, projectId, query);
  const [clickRows, moneyRows] = await Promise.all([
    storage.all<{ key: string; clicks: number }>(reads.clicks.sql, reads.clicks.params),
    storage.all<MoneySums & { key: string }>(reads.money.sql, reads.money.params),
  ]);
  return { clicks: new Map(clickRows.map((t) => [t.key, t.clicks])), money: moneyByKey(moneyRows) };
}

function moneyByKey(rows: (MoneySums & { key: string })[]): Map<string, Map<string, MoneySums>> {
  const money = new Map<string, Map<string, MoneySums>>();
  for (const { key, ...m } of rows) {
    let currencies = money.get(key);
    if (!currencies) money.set(key, (currencies = new Map()));
    currencies.set(m.currency, m);
  }
  return money;
}

/** Sums read from the tables by the last prime, per notes key, project and query; the last few only. */
const primedTableSums = new WeakMap<object, Map<string, KeySums>>();
const MAX_PRIMED_TABLE_SUMS = 50;
const tableSumsKey = (projectId: string, query: SumsQuery) => JSON.stringify([projectId, query.groupBy, query.from, query.to, query.model ?? "last", query.filter ?? {}]);

/**
 * PostgreSQL: what `rollupSums` will sum, read into memory: the range's folded days, or for a range
 * `foldedDays` leaves to the tables (or without `folding`), the tables' sums, read again at every prime
 * as SQLite reads them at every report.
 */
export async function primeRollupSums(db: PostgresReports, projectId: string, query: SumsQuery, folding?: { timeZone: string; now: number }): Promise<void> {
  if (folding && (await primeFoldedDays(db, projectId, query.from, query.to, folding.timeZone, folding.now))) return;
  const sums = await sumTablesFrom(db.storage, projectId, query);
  let kept = primedTableSums.get(db.notes);
  if (!kept) primedTableSums.set(db.notes, (kept = new Map()));
  const key = tableSumsKey(projectId, query);
  kept.delete(key);
  kept.set(key, sums);
  for (const oldest of kept.keys()) {
    if (kept.size <= MAX_PRIMED_TABLE_SUMS) break;
    kept.delete(oldest);
  }
}

/** The two reads of `sumTables`, on either engine. */
function tableSumsReads(engine: Engine, projectId: string, query: SumsQuery): Record<"clicks" | "money", { sql: string; params: (string | number)[] }> {
  // Without a grouping, one row under '' holds the range's totals.
  const column = query.groupBy ? GROUP_BY_COLUMN[query.groupBy] : "''";
  const spans = reportSpans(query.from, query.to);
  const filter = Object.entries(query.filter ?? {}) as [GroupBy, string][];
  const narrow = filter.map(([dimension]) => ` AND ${GROUP_BY_COLUMN[dimension]} = ?`).join("");
  const values = filter.map(([, value]) => value);
  const part = (span: Span, kind: "traffic" | "money", columns: string) => {
    const { table, where } = source(span, kind);
    return `SELECT ${column} AS key, ${columns} FROM ${table} WHERE project_id = ?${kind === "money" ? " AND model = ?" : ""} AND ${where}${narrow}`;
  };
  // PostgreSQL names a derived table, and reads the SQLite text through postgresText.
  const text = (sql: string) => (engine === "sqlite" ? sql : postgresText(sql.replace(/\) GROUP BY key/, ") AS spans GROUP BY key")));
  const moneyColumns = "currency, payments, revenue, refunds, renewals, renewal_revenue, reporting_revenue, reporting_refunds, reporting_renewal_revenue, unconverted";
  return {
    clicks: {
      sql: text(`SELECT key, SUM(clicks) AS clicks FROM (${spans.map((span) => part(span, "traffic", "clicks")).join(" UNION ALL ")}) GROUP BY key`),
      params: spans.flatMap((span) => [projectId, span.from, span.to, ...values]),
    },
    money: {
      sql: text(`SELECT key, currency, SUM(payments) AS payments, SUM(revenue) AS revenue, SUM(refunds) AS refunds, SUM(renewals) AS renewals,
         SUM(renewal_revenue) AS renewalRevenue, SUM(reporting_revenue) AS reportingRevenue, SUM(reporting_refunds) AS reportingRefunds,
         SUM(reporting_renewal_revenue) AS reportingRenewalRevenue, SUM(unconverted) AS unconverted
       FROM (${spans.map((span) => part(span, "money", moneyColumns)).join(" UNION ALL ")}) GROUP BY key, currency`),
      params: spans.flatMap((span) => [projectId, query.model ?? "last", span.from, span.to, ...values]),
    },
  };
}

const keptSums = new Map<string, KeySums>();
const MAX_KEPT_SUMS = 200;
const dayIds = new WeakMap<Day, number>();
let lastDayId = 0;
const dayId = (day: Day) => dayIds.get(day) ?? (dayIds.set(day, ++lastDayId), lastDayId);

/**
 * The same sums over days folded in memory. A day folded again after a write is a new Day, so the sums
 * of all days but the last are kept by their days' identities: a view of a range ending today sums
 * only today again, however long the range.
 */
function sumDays(days: Day[], query: SumsQuery): KeySums {
  if (days.length < 2) return sumEachDay(days, query);
  const past = days.slice(0, -1);
  const key = keptSumsKey(query, past);
  const kept = keep(key, keptSums.get(key) ?? sumEachDay(past, query));
  return addedSums(kept, sumEachDay(days.slice(-1), query));
}

const keptSumsKey = (query: SumsQuery, past: Day[]) => `${query.model ?? "last"}|${query.groupBy}|${JSON.stringify(query.filter ?? {})}|${past.map(dayId).join(",")}`;

function keep(key: string, sums: KeySums): KeySums {
  keptSums.delete(key);
  keptSums.set(key, sums);
  for (const oldest of keptSums.keys()) {
    if (keptSums.size <= MAX_KEPT_SUMS) break;
    keptSums.delete(oldest);
  }
  return sums;
}

/** How long priming sums runs between pauses: a day's sums take well under a millisecond. */
const PRIME_SLICE_MS = 5;

/**
 * Sums the days of a range but its last ahead, a few milliseconds between pauses, and keeps them as a view's
 * `rollupSums` would: the warm-up's, so a report's first view sums only today. Summing a year by
 * link at once took ~100 ms of the 365-day links page's first view. Says whether it summed: not when
 * the sums are kept already, nor while a day of the range waits to be folded again. On PostgreSQL
 * after the range's days are primed (`primeFoldedDays`), its last one too.
 */
export async function primeSums(db: ReportDb, projectId: string, query: SumsQuery, folding: { timeZone: string; now: number }, pause: () => Promise<unknown>): Promise<boolean> {
  // Days refolded since the warm-up folded them (a re-conversion writes into every day) wait for its next pass.
  const days = keptDays(db, projectId, query.from, query.to, folding.timeZone, folding.now);
  if (!days || days.length < 2) return false;
  const past = days.slice(0, -1);
  const key = keptSumsKey(query, past);
  if (keptSums.has(key)) return false;
  let sums: KeySums = { clicks: new Map(), money: new Map() };
  let since = performance.now();
  for (const day of past) {
    sums = addedSums(sums, sumEachDay([day], query));
    if (performance.now() - since < PRIME_SLICE_MS) continue;
    await pause();
    since = performance.now();
  }
  keep(key, sums);
  return true;
}

/** `kept` plus `more`, in new maps where they differ: `kept` stays as it was. */
function addedSums(kept: KeySums, more: KeySums): KeySums {
  const clicks = new Map(kept.clicks);
  for (const [key, n] of more.clicks) clicks.set(key, (clicks.get(key) ?? 0) + n);
  const money = new Map(kept.money);
  for (const [key, currencies] of more.money) {
    const sums = new Map<string, MoneySums>();
    for (const m of [...(kept.money.get(key)?.values() ?? []), ...currencies.values()]) addMoneyByCurrency(sums, m);
    money.set(key, sums);
  }
  return { clicks, money };
}

/** Per-dimension indexes when at most one dimension is involved, else a walk over each day's contexts. */
function sumEachDay(days: Day[], query: SumsQuery): KeySums {
  const model = query.model ?? "last";
  const filter = Object.entries(query.filter ?? {}) as [GroupBy, string][];
  const clicks = new Map<string, number>();
  const money = new Map<string, Map<string, MoneySums>>();
  const addClicks = (key: string, n: number) => clicks.set(key, (clicks.get(key) ?? 0) + n);
  const addSums = (key: string, m: MoneySums) => {
    let currencies = money.get(key);
    if (!currencies) money.set(key, (currencies = new Map()));
    addMoneyByCurrency(currencies, m);
  };
  // One filter and no grouping reads the filter's index; no filter reads the grouping's.
  const indexed: { dimension: GroupBy | null; value: string | null } | null =
    filter.length === 0 ? { dimension: query.groupBy, value: null } : filter.length === 1 && query.groupBy === null ? { dimension: filter[0]![0], value: filter[0]![1] } : null;
  for (const day of days) {
    if (indexed?.value === null) {
      for (const [key, t] of dayTraffic(day, indexed.dimension)) addClicks(key, t.clicks);
      for (const [key, currencies] of dayMoney(day, model, indexed.dimension)) for (const m of currencies.values()) addSums(key, m);
      continue;
    }
    if (indexed) {
      addClicks("", dayTraffic(day, indexed.dimension).get(indexed.value)?.clicks ?? 0);
      for (const m of dayMoney(day, model, indexed.dimension).get(indexed.value)?.values() ?? []) addSums("", m);
      continue;
    }
    const { traffic, money: moneyRows } = dayRowsMatching(day, filter);
    const keyOf = (context: Context) => (query.groupBy ? context[query.groupBy] : "");
    for (const row of traffic) addClicks(keyOf(row.context), row.clicks);
    for (const row of moneyRows) if (row.model === model) addSums(keyOf(row.context), row);
  }
  return { clicks, money };
}

/** What a person reads for each key: link titles, campaign and lead names. */
export function keyLabels(db: Database, projectId: string, groupBy: GroupBy): Map<string, string> {
  const sql = labelsSql(groupBy);
  if (!sql) return new Map();
  return new Map(db.query<{ key: string; label: string }, [string]>(sql).all(projectId).map((r) => [r.key, r.label]));
}

/** The same labels read through a storage (PostgreSQL's prime). */
export async function keyLabelsFrom(storage: Storage, projectId: string, groupBy: GroupBy): Promise<Map<string, string>> {
  const sql = labelsSql(groupBy);
  if (!sql) return new Map();
  return new Map((await storage.all<{ key: string; label: string }>(sql, [projectId])).map((r) => [r.key, r.label]));
}

// The same text on both engines.
function labelsSql(groupBy: GroupBy): string | null {
  return groupBy === "link"
      ? "SELECT id AS key, coalesce(nullif(title, ''), slug) AS label FROM links WHERE project_id = ?"
      : groupBy === "campaign"
        ? "SELECT campaign_id AS key, name AS label FROM campaigns WHERE project_id = ? AND name <> ''"
        : groupBy === "lead"
          ? "SELECT lead_id AS key, coalesce(nullif(name, ''), company) AS label FROM leads WHERE project_id = ? AND coalesce(nullif(name, ''), company) IS NOT NULL"
          : null;
}

/** The reporting currency's sums first, then the others by net. */
export const byCurrencyOrder = (currency: string) => (a: CurrencySums, b: CurrencySums) => Number(b.currency === currency) - Number(a.currency === currency) || b.net - a.net;

/** The attribution report on either engine: on PostgreSQL its reads primed first, then the same computation (see source.ts). */
export async function attributionOn(db: ReportDb, project: ReportProject, query: AttributionReportQuery, now: number): Promise<AttributionReportRow[]> {
  if (!(db instanceof PostgresReports)) return attributionReport(db, project, query, now);
  const range = { projectId: project.id, from: query.from, to: query.to, timeZone: project.timezone, now };
  const [labels] = await Promise.all([
    keyLabelsFrom(db.storage, project.id, query.groupBy),
    primeReport(db, range, [{ groupBy: query.groupBy, model: query.model, filter: query.filter }]),
  ]);
  return attributionRows(db, project, query, now, labels);
}

export function attributionReport(db: Database, project: ReportProject, query: AttributionReportQuery, now: number): AttributionReportRow[] {
  return attributionRows(db, project, query, now, keyLabels(db, project.id, query.groupBy));
}

/** On PostgreSQL, only after its prime (`attributionOn`). */
function attributionRows(db: ReportDb, project: ReportProject, query: AttributionReportQuery, now: number, labels: Map<string, string>): AttributionReportRow[] {
  const range: PeopleRange = { db, projectId: project.id, from: query.from, to: query.to, timeZone: project.timezone, now, countRenewals: project.countRenewals, model: query.model, filter: query.filter };
  const people = peopleByAttribution(peopleQuery(range), query.groupBy);
  const sums = rollupSums(db, project.id, query, project.countRenewals, { timeZone: project.timezone, now });
  const rows: AttributionReportRow[] = [];
  for (const key of new Set([...sums.keys(), ...people.keys()])) {
    const p = people.get(key);
    const s = sums.get(key);
    const byCurrency = (s?.byCurrency ?? []).sort(byCurrencyOrder(project.currency));
    const money = s?.reporting ?? emptyEntry().reporting;
    const visitors = p?.visitors ?? 0;
    const row: AttributionReportRow = {
      key: key === "" ? null : key,
      label: key === "" ? "(none)" : (labels.get(key) ?? key),
      clicks: s?.clicks ?? 0,
      visitors,
      signups: p?.signups ?? 0,
      customers: p?.customers ?? 0,
      conversionRate: p?.conversionRate ?? 0,
      ...money,
      revenuePerVisitor: visitors ? Math.round(money.net / visitors) : 0,
      currency: project.currency,
      byCurrency,
    };
    if (row.clicks || row.visitors || row.customers || byCurrency.length || row.unconverted) rows.push(row);
  }
  return rows.sort((a, b) => b.net - a.net || b.visitors - a.visitors || b.clicks - a.clicks || (a.key ?? "").localeCompare(b.key ?? ""));
}
