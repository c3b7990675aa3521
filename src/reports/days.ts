// The rollups folded per local day and kept in memory: what reports and data pages sum for ranges
// longer than two days.
//
// The hourly rollups hold one row per hour and attribution context, about a million rows for 10M
// events: summing a month of them takes seconds, and even the daily rows take 100–200 ms a read.
// Ranges longer than two days are therefore read per local day, each day folded once into its
// contexts (a few thousand rows) and kept until something is written into it (see writes.ts); short
// ranges are read live. A day is also refolded after STALE_MS (a write by another process, a
// migration), the day still running after OPEN_DAY_MS.
import type { Database } from "bun:sqlite";
import { addDays, localDate, startOfLocalDay } from "../dashboard/range.ts";
import { GROUP_BY, GROUP_BY_COLUMN, type GroupBy } from "./dimensions.ts";
import { firstActivity, hasFreshWindow, primeFirstActivity, warmPeopleWindow } from "./people/windows.ts";
import { writeSeq, writtenSince } from "./writes.ts";
import { internRecord, internString } from "./interned.ts";
import { readText } from "../db/postgres/dialect.ts";
import type { Storage } from "../db/storage/storage.ts";
import { NotPrimed, notesKey, OTHER_NODES_MS, othersUnheard, PostgresReports, type ReportDb } from "./source.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
// Writes by this process are noted (writes.ts); this catches the rest, such as an erasure run from the CLI.
const STALE_MS = 30 * 60_000;
// The day still running is refolded at most this often: a page reads it several times per request.
const OPEN_DAY_MS = 10_000;
// About a year of days for a few projects; a day is a few thousand small rows.
const MAX_DAYS = 1500;
// Longer ranges are summed from the rollup tables (their monthly rows), not day by day.
const MAX_RANGE_DAYS = 400;
const CONTEXT_COLUMNS = Object.values(GROUP_BY_COLUMN);

export type Context = Record<GroupBy, string>;

export interface Traffic {
  clicks: number;
  sessions: number;
  pageviews: number;
  pricingViews: number;
  signups: number;
  signupsStarted: number;
}

/** One currency's money in the payment rollups' columns, minor units. */
export interface MoneySums {
  currency: string;
  /** Sales and renewals. */
  payments: number;
  /** Net of tax, sales and renewals. */
  revenue: number;
  /** Refunds and disputes, net of tax, positive. */
  refunds: number;
  renewals: number;
  renewalRevenue: number;
  /** The same in the reporting currency, for the payments with a rate. */
  reportingRevenue: number;
  reportingRefunds: number;
  reportingRenewalRevenue: number;
  /** Payments without a rate to the reporting currency. */
  unconverted: number;
}

export type Model = "last" | "first";

interface TrafficRow extends Traffic {
  context: Context;
}
interface MoneyRow extends MoneySums {
  model: Model;
  context: Context;
}

export interface Day {
  start: number;
  end: number;
  traffic: TrafficRow[];
  money: MoneyRow[];
  /** Indexes built on first use: per dimension value (or "" for the whole day). */
  memo: Map<string, unknown>;
}

const MONEY_COLUMNS = `sum(payments) AS payments, sum(revenue) AS revenue, sum(refunds) AS refunds, sum(renewals) AS renewals,
  sum(renewal_revenue) AS renewalRevenue, sum(reporting_revenue) AS reportingRevenue, sum(reporting_refunds) AS reportingRefunds,
  sum(reporting_renewal_revenue) AS reportingRenewalRevenue, sum(unconverted) AS unconverted`;
const FOLD_TRAFFIC = `SELECT ${CONTEXT_COLUMNS.join(", ")}, sum(clicks) AS clicks, sum(sessions) AS sessions,
  sum(pageviews) AS pageviews, sum(pricing_views) AS pricingViews, sum(signups) AS signups, sum(signups_started) AS signupsStarted
  FROM context_stats_hourly WHERE project_id = ? AND hour >= ? AND hour < ? GROUP BY ${CONTEXT_COLUMNS.join(", ")}`;
const FOLD_MONEY = `SELECT model, ${CONTEXT_COLUMNS.join(", ")}, currency, ${MONEY_COLUMNS}
  FROM payment_stats_hourly WHERE project_id = ? AND model IN ('last', 'first') AND hour >= ? AND hour < ? GROUP BY model, ${CONTEXT_COLUMNS.join(", ")}, currency`;

// A whole UTC day is already summed in the period rollups (grain 'day', written beside the hourly row):
// 24x fewer rows. (The money keys start with the model: naming both keeps the read a range, not a scan.)
const FOLD_TRAFFIC_DAILY = FOLD_TRAFFIC.replace("context_stats_hourly", "context_stats_periods").replace("hour >= ? AND hour < ?", "grain = 'day' AND period >= ? AND period < ?");
const FOLD_MONEY_DAILY = FOLD_MONEY.replace("payment_stats_hourly", "payment_stats_periods").replace("hour >= ? AND hour < ?", "grain = 'day' AND period >= ? AND period < ?");
/** The four folds' texts on each engine. */
const FOLDS = {
  traffic: readText(() => FOLD_TRAFFIC),
  money: readText(() => FOLD_MONEY),
  trafficDaily: readText(() => FOLD_TRAFFIC_DAILY),
  moneyDaily: readText(() => FOLD_MONEY_DAILY),
};

type ContextColumnsRow = Record<(typeof CONTEXT_COLUMNS)[number], string>;
/** The row's context, one object shared by every day and row that names it (see interned.ts). */
function contextOf(row: ContextColumnsRow): Context {
  return internRecord(CONTEXT_COLUMNS.map((column) => row[column]).join("\u0000"), () => {
    const context = {} as Context;
    for (const [dimension, column] of Object.entries(GROUP_BY_COLUMN)) context[dimension as GroupBy] = row[column];
    return context;
  });
}


const TRAFFIC_COUNTS = ["clicks", "sessions", "pageviews", "pricingViews", "signups", "signupsStarted"] as const satisfies readonly (keyof Traffic)[];
const MONEY_SUMS = [
  "payments",
  "revenue",
  "refunds",
  "renewals",
  "renewalRevenue",
  "reportingRevenue",
  "reportingRefunds",
  "reportingRenewalRevenue",
  "unconverted",
] as const satisfies readonly (keyof MoneySums)[];

export const emptyTraffic = (): Traffic => ({ clicks: 0, sessions: 0, pageviews: 0, pricingViews: 0, signups: 0, signupsStarted: 0 });
export function addTraffic(total: Traffic, row: Traffic): void {
  for (const count of TRAFFIC_COUNTS) total[count] += row[count];
}

export const emptyMoney = (currency: string): MoneySums => {
  const sums = { currency } as MoneySums;
  for (const sum of MONEY_SUMS) sums[sum] = 0;
  return sums;
};
function addMoney(total: MoneySums, row: MoneySums): void {
  for (const sum of MONEY_SUMS) total[sum] += row[sum];
}
/** Adds `row` to its currency's sums in `into`. */
export function addMoneyByCurrency(into: Map<string, MoneySums>, row: MoneySums): void {
  let total = into.get(row.currency);
  if (!total) into.set(row.currency, (total = emptyMoney(row.currency)));
  addMoney(total, row);
}

/** A row's counts or sums alone, without the columns read beside them. */
const trafficOf = (r: Traffic): Traffic => {
  const traffic = emptyTraffic();
  addTraffic(traffic, r);
  return traffic;
};
const moneyOf = (r: MoneySums): MoneySums => {
  const sums = emptyMoney(internString(r.currency));
  addMoney(sums, r);
  return sums;
};

type TrafficFoldRow = ContextColumnsRow & Traffic;
type MoneyFoldRow = ContextColumnsRow & MoneySums & { model: Model };

function fold(db: Database, projectId: string, start: number, end: number): Day {
  const utcDay = start % DAY_MS === 0 && end - start === DAY_MS;
  const traffic = db.query<TrafficFoldRow, [string, number, number]>(utcDay ? FOLD_TRAFFIC_DAILY : FOLD_TRAFFIC).all(projectId, start, end);
  const money = db.query<MoneyFoldRow, [string, number, number]>(utcDay ? FOLD_MONEY_DAILY : FOLD_MONEY).all(projectId, start, end);
  return dayOf(start, end, traffic, money);
}

/** The same fold read through a storage (PostgreSQL's prime): the same SQL, the same day from the same rows. */
async function foldFrom(storage: Storage, projectId: string, start: number, end: number): Promise<Day> {
  const utcDay = start % DAY_MS === 0 && end - start === DAY_MS;
  const params = [projectId, start, end];
  const [traffic, money] = await Promise.all([
    storage.all<TrafficFoldRow>((utcDay ? FOLDS.trafficDaily : FOLDS.traffic)[storage.engine], params),
    storage.all<MoneyFoldRow>((utcDay ? FOLDS.moneyDaily : FOLDS.money)[storage.engine], params),
  ]);
  return dayOf(start, end, traffic, money);
}

/** A day from its fold's rows: one per context (traffic), one per model, context and currency (money). */
function dayOf(start: number, end: number, traffic: TrafficFoldRow[], money: MoneyFoldRow[]): Day {
  return {
    start,
    end,
    traffic: traffic.map((r) => ({ context: contextOf(r), ...trafficOf(r) })),
    money: money.map((r) => ({ model: internString(r.model) as Model, context: contextOf(r), ...moneyOf(r) })),
    memo: new Map(),
  };
}

/**
 * The same fold as `fold`, read from the hourly rollups `sliceHours` hours at a time with `pause()`
 * awaited between slices: a background warm-up folds a day without holding the event loop for
 * more than one slice (a few ms on a 10M-event database).
 */
async function foldInSlices(db: Database, projectId: string, start: number, end: number, pause: () => Promise<unknown>, sliceHours = 2): Promise<Day> {
  // Contexts are shared objects (see contextOf): a row's context is its key.
  const traffic = new Map<Context, TrafficRow>();
  const money = new Map<Context, Map<string, MoneyRow>>();
  for (let from = start; from < end; from += sliceHours * HOUR_MS) {
    const to = Math.min(end, from + sliceHours * HOUR_MS);
    for (const r of db.query<ContextColumnsRow & Traffic, [string, number, number]>(FOLD_TRAFFIC).all(projectId, from, to)) {
      const context = contextOf(r);
      let row = traffic.get(context);
      if (!row) traffic.set(context, (row = { context, ...emptyTraffic() }));
      addTraffic(row, r);
    }
    for (const r of db.query<ContextColumnsRow & MoneySums & { model: Model }, [string, number, number]>(FOLD_MONEY).all(projectId, from, to)) {
      const context = contextOf(r);
      let rows = money.get(context);
      if (!rows) money.set(context, (rows = new Map()));
      let row = rows.get(`${r.model}|${r.currency}`);
      if (!row) rows.set(`${r.model}|${r.currency}`, (row = { model: internString(r.model) as Model, context, ...emptyMoney(internString(r.currency)) }));
      addMoney(row, r);
    }
    await pause();
  }
  return { start, end, traffic: [...traffic.values()], money: [...money.values()].flatMap((rows) => [...rows.values()]), memo: new Map() };
}

function memo<T>(day: Day, key: string, build: () => T): T {
  let value = day.memo.get(key) as T | undefined;
  if (value === undefined) day.memo.set(key, (value = build()));
  return value;
}

/** The day's traffic per value of `dimension` (null: the whole day under key ""). */
export function dayTraffic(day: Day, dimension: GroupBy | null): Map<string, Traffic> {
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

/** The day's rows whose context has every value of `filter`: only the rows with the first value are walked. */
export function dayRowsMatching(day: Day, filter: readonly (readonly [GroupBy, string])[]): { traffic: TrafficRow[]; money: MoneyRow[] } {
  if (filter.length === 0) return day;
  const [[dimension, value], ...others] = filter as [readonly [GroupBy, string], ...(readonly [GroupBy, string])[]];
  const rows = dayRowsWith(day, dimension, value);
  if (others.length === 0) return rows;
  const passes = (row: { context: Context }) => others.every(([other, wanted]) => row.context[other] === wanted);
  return { traffic: rows.traffic.filter(passes), money: rows.money.filter(passes) };
}

/** The day's rows with `value` for `dimension` (what a filtered report walks), indexed on first use. */
function dayRowsWith(day: Day, dimension: GroupBy, value: string): { traffic: TrafficRow[]; money: MoneyRow[] } {
  const index = memo(day, `rows|${dimension}`, () => {
    const out = new Map<string, { traffic: TrafficRow[]; money: MoneyRow[] }>();
    const of = (context: Context) => {
      let rows = out.get(context[dimension]);
      if (!rows) out.set(context[dimension], (rows = { traffic: [], money: [] }));
      return rows;
    };
    for (const row of day.traffic) of(row.context).traffic.push(row);
    for (const row of day.money) of(row.context).money.push(row);
    return out;
  });
  return index.get(value) ?? { traffic: [], money: [] };
}

/** The day's money per value of `dimension` (null: the whole day under key "") and currency. */
export function dayMoney(day: Day, model: Model, dimension: GroupBy | null): Map<string, Map<string, MoneySums>> {
  return memo(day, `m|${model}|${dimension}`, () => {
    const out = new Map<string, Map<string, MoneySums>>();
    for (const row of day.money) {
      if (row.model !== model) continue;
      const key = dimension ? row.context[dimension] : "";
      let currencies = out.get(key);
      if (!currencies) out.set(key, (currencies = new Map()));
      addMoneyByCurrency(currencies, row);
    }
    return out;
  });
}

interface Folded {
  at: number;
  /** The write sequence number when it was folded. */
  seq: number;
  day: Day;
}

/** Keyed by what write notes are keyed by (see source.ts). */
const folded = new WeakMap<object, Map<string, Folded>>();

function foldCache(db: ReportDb): Map<string, Folded> {
  const key = notesKey(db);
  let cache = folded.get(key);
  if (!cache) folded.set(key, (cache = new Map()));
  return cache;
}

function remember(cache: Map<string, Folded>, key: string, entry: Folded): void {
  cache.delete(key);
  cache.set(key, entry);
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

function fresh(db: ReportDb, projectId: string, hit: Folded | undefined, start: number, end: number, now: number, ageLimit: number): hit is Folded {
  if (hit === undefined || now < hit.at || now - hit.at >= ageLimit) return false;
  // PostgreSQL: another node may have written within the last OTHER_NODES_MS (see source.ts).
  if (db instanceof PostgresReports && othersUnheard(db) && hit.at < end + OTHER_NODES_MS) return false;
  return !writtenSince(notesKey(db), projectId, start, end, hit.seq);
}

/**
 * The range's local days, each folded (from memory when nothing was written into it since). Null
 * for ranges of two days or less or over MAX_RANGE_DAYS, and for ranges that do not start and end on
 * local midnights.
 */
export function foldedDays(db: ReportDb, projectId: string, from: number, to: number, timeZone: string, now: number): Day[] | null {
  return daysOf(db, projectId, from, to, timeZone, now, false);
}

/** The same days when all but the last are folded and fresh in memory, else null: for background work that must not fold a year at once. */
export function keptDays(db: ReportDb, projectId: string, from: number, to: number, timeZone: string, now: number): Day[] | null {
  return daysOf(db, projectId, from, to, timeZone, now, true);
}

/** Whether `foldedDays` folds the range into local days (else the rollup tables are read for it). */
export const foldsDays = (from: number, to: number, timeZone: string): boolean => foldedBounds(from, to, timeZone) !== null;

/** The local days `foldedDays` folds a range into, null when it sums the range from the rollup tables instead. */
function foldedBounds(from: number, to: number, timeZone: string): { start: number; end: number }[] | null {
  if (to - from <= 2 * DAY_MS || to - from > MAX_RANGE_DAYS * DAY_MS) return null;
  return localDays(from, to, timeZone);
}

/**
 * PostgreSQL: folds into memory the range's days that are not fresh there, so that `foldedDays` then
 * finds them all; false (nothing read) for a range `foldedDays` leaves to the rollup tables. Reads the
 * project's first activity first (people/windows.ts), which decides the days that need no read.
 */
export async function primeFoldedDays(db: PostgresReports, projectId: string, from: number, to: number, timeZone: string, now: number): Promise<boolean> {
  const bounds = foldedBounds(from, to, timeZone);
  if (!bounds) return false;
  const cache = foldCache(db);
  const first = await primeFirstActivity(db, projectId);
  const stale = bounds.filter(({ start, end }) => end > first && !fresh(db, projectId, cache.get(foldKey(projectId, start, end)), start, end, now, maxAge(end, now)));
  const seq = writeSeq(db.notes, projectId);
  const days = await Promise.all(stale.map(({ start, end }) => foldFrom(db.storage, projectId, start, end)));
  for (const day of days) remember(cache, foldKey(projectId, day.start, day.end), { at: now, seq, day });
  return true;
}

function daysOf(db: ReportDb, projectId: string, from: number, to: number, timeZone: string, now: number, onlyKept: boolean): Day[] | null {
  const bounds = foldedBounds(from, to, timeZone);
  if (!bounds) return null;
  const cache = foldCache(db);
  // Days before the project's first data are empty: no read, nothing kept.
  const first = firstActivity(db, projectId);
  if (onlyKept) {
    const stale = bounds.slice(0, -1).some(({ start, end }) => end > first && !fresh(db, projectId, cache.get(foldKey(projectId, start, end)), start, end, now, maxAge(end, now)));
    if (stale) return null;
  }
  return bounds.map(({ start, end }) => {
    const key = foldKey(projectId, start, end);
    const hit = cache.get(key);
    if (end <= first) {
      // The same empty day each time: sums kept over a range are keyed by its days' identities.
      if (hit && hit.day.traffic.length === 0 && hit.day.money.length === 0) return hit.day;
      const day: Day = { start, end, traffic: [], money: [], memo: new Map() };
      remember(cache, key, { at: now, seq: writeSeq(notesKey(db), projectId), day });
      return day;
    }
    // PostgreSQL: as the prime left it a moment ago (primeFoldedDays).
    if (db instanceof PostgresReports) {
      if (!hit) throw new NotPrimed(`the folded day ${new Date(start).toISOString()}–${new Date(end).toISOString()}`);
      return hit.day;
    }
    if (fresh(db, projectId, hit, start, end, now, maxAge(end, now))) return hit.day;
    const seq = writeSeq(db, projectId);
    const day = fold(db, projectId, start, end);
    remember(cache, key, { at: now, seq, day });
    return day;
  });
}

/**
 * Folds the closed local days of the `count` days before `now` that are missing from memory or
 * would go stale within `refreshWithinMs`, newest first, in slices (see `foldInSlices`), and reads
 * who was there each day (the people windows), so pages read both from memory from their first
 * view. Returns how many days it folded. On PostgreSQL a day is folded in one read through the
 * storage (`foldFrom`, its prime's), after the project's first activity, as `primeFoldedDays` does.
 */
export async function warmDays(
  db: ReportDb,
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
  // Days before the project's first data hold nothing to fold (a late write into one is folded when a page asks).
  const first = db instanceof PostgresReports ? await primeFirstActivity(db, projectId) : firstActivity(db, projectId);
  let warmed = 0;
  for (const { start, end } of bounds.reverse()) {
    onDay();
    const key = foldKey(projectId, start, end);
    const at = now();
    if (end + HOUR_MS > at || end <= first) continue;
    // Who was there that day, read from the raw journey (one query; kept until a late write touches the day).
    if (!hasFreshWindow(db, projectId, start, end, at)) await warmPeopleWindow(db, projectId, start, end, at, pause);
    if (fresh(db, projectId, cache.get(key), start, end, at, STALE_MS - refreshWithinMs)) continue;
    // Stamped with the sequence number before the fold: a write that lands during it makes it stale.
    const seq = writeSeq(notesKey(db), projectId);
    const day = db instanceof PostgresReports ? await foldFrom(db.storage, projectId, start, end) : await foldInSlices(db, projectId, start, end, pause);
    // The per-value sums a report reads, built now rather than by the first view of each report.
    for (const dimension of [null, ...GROUP_BY]) {
      dayTraffic(day, dimension);
      dayMoney(day, "last", dimension);
    }
    await pause();
    remember(cache, key, { at, seq, day });
    warmed++;
  }
  return warmed;
}
