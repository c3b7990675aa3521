// MRR (SPEC §5): each subscription's paid periods normalised to a month, read as of each month's
// end; new, expansion, contraction and churned MRR per month and attribution key, in the reporting
// currency, credited to the subscription's first sale. The movements are a pure function of facts.
import { readAllPages, readPagesPausing } from "../db/pages.ts";
import type { Database } from "bun:sqlite";
import { multiplyHalfEven } from "../payments/fx/convert.ts";
import { addDays, localDate, startOfLocalDay } from "../dashboard/range.ts";
import { GROUP_BY, GROUP_BY_COLUMN, type GroupBy } from "../reports/attribution.ts";
import type { SubscriptionInterval } from "../payments/types.ts";
import { subscriptionsSeq } from "../reports/writes.ts";
import { NotPrimed, notesKey, OTHER_NODES_MS, othersUnheard, PostgresReports, type ReportDb } from "../reports/source.ts";
import { perEngine } from "../db/postgres/dialect.ts";
import type { Engine, Storage } from "../db/storage/storage.ts";

/** A period ending without a renewal within this long lapses (and churns) at its end. */
export const RENEWAL_GRACE_MS = 3 * 86_400_000;

/** A period's recurring amount per month, in minor units, rounded once (half to even): a year ÷ 12, a week × 52/12, a day × 365/12. */
export function monthlyAmount(amount: number, interval: SubscriptionInterval, count: number): number {
  const { n, d } = PER_MONTH[interval];
  return multiplyHalfEven(amount, n, d * count);
}

const PER_MONTH: Record<SubscriptionInterval, { n: number; d: number }> = { day: { n: 365, d: 12 }, week: { n: 52, d: 12 }, month: { n: 1, d: 1 }, year: { n: 1, d: 12 } };

export interface SubscriptionFacts {
  key: string | null;
  cancelledAt: number | null;
  /** Paid periods in order; `mrr` null when its payment has no rate into the reporting currency. */
  periods: { start: number; end: number; mrr: number | null }[];
}

/** A subscription's MRR over time: `values[i]` from `times[i]` on (0 before the first). */
export interface MrrSteps {
  times: number[];
  values: number[];
}

/**
 * The subscription's MRR as a step function, judged with what is known at `now`: each paid period
 * counts from its start; past its end it goes on while a renewal came within the grace (or, for
 * the last one, while the grace is not over yet), else it drops to 0; a cancellation ends it.
 */
export function mrrSteps(sub: SubscriptionFacts, now: number): MrrSteps {
  const times: number[] = [];
  const values: number[] = [];
  const step = (t: number, value: number) => {
    if (sub.cancelledAt !== null && t >= sub.cancelledAt) return;
    times.push(t);
    values.push(value);
  };
  sub.periods.forEach((period, i) => {
    const mrr = period.mrr ?? 0;
    step(period.start, mrr);
    const next = sub.periods[i + 1];
    // An overlapping next period takes over at its start; this one's end never shows.
    if (next && next.start <= period.end) return;
    const continues = next ? next.start - period.end <= RENEWAL_GRACE_MS : now < period.end + RENEWAL_GRACE_MS;
    step(period.end, continues ? mrr : 0);
  });
  if (sub.cancelledAt !== null) {
    times.push(sub.cancelledAt);
    values.push(0);
  }
  return { times, values };
}

/** The subscription's MRR at instant `t`, judged with what is known at `now`. */
export function mrrAt(sub: SubscriptionFacts, t: number, now: number): number {
  const { times, values } = mrrSteps(sub, now);
  let value = 0;
  for (let i = 0; i < times.length && times[i]! <= t; i++) value = values[i]!;
  return value;
}

export interface MonthSpan {
  month: string;
  start: number;
  end: number;
}

export interface MrrRow {
  month: string;
  key: string | null;
  mrr: number;
  new: number;
  expansion: number;
  contraction: number;
  churned: number;
  activeSubscriptions: number;
  currency: string;
}

/**
 * Rows per month and key, keys in the order they first appear; every month has a row for every key
 * seen. Each subscription's steps are walked once across all months: a change within a month
 * counts, so one that starts and ends inside it is new and churned.
 */
export function mrrMovements(subs: readonly SubscriptionFacts[], months: readonly MonthSpan[], now: number, currency: string): MrrRow[] {
  const keys = [...new Set(subs.map((s) => s.key))];
  const byKey = new Map(keys.map((key) => [key, months.map((month) => ({ month: month.month, key, mrr: 0, new: 0, expansion: 0, contraction: 0, churned: 0, activeSubscriptions: 0, currency }))]));
  for (const sub of subs) {
    const rows = byKey.get(sub.key)!;
    const { times, values } = mrrSteps(sub, now);
    let i = 0;
    let current = 0;
    /** Moves to instant `t`, counting every change on the way into `row` (when given). */
    const advance = (t: number, row: MrrRow | null) => {
      for (; i < times.length && times[i]! <= t; i++) {
        const value = values[i]!;
        if (row) {
          if (current === 0 && value > 0) row.new += value;
          else if (current > 0 && value === 0) row.churned += current;
          else if (value > current) row.expansion += value - current;
          else row.contraction += current - value;
        }
        current = value;
      }
    };
    months.forEach((month, m) => {
      const row = rows[m]!;
      advance(month.start - 1, null);
      advance(Math.min(month.end - 1, now), row);
      row.mrr += current;
      if (current > 0) row.activeSubscriptions++;
    });
  }
  return months.flatMap((_, m) => keys.map((key) => byKey.get(key)![m]!));
}

/** The months touching [from, to) in the project's timezone, each from its local first day. */
export function monthSpans(from: number, to: number, timezone: string): MonthSpan[] {
  const spans: MonthSpan[] = [];
  let month = `${localDate(from, timezone).slice(0, 7)}-01`;
  while (startOfLocalDay(month, timezone) < to && spans.length < 240) {
    const next = `${addDays(month, 32).slice(0, 7)}-01`;
    spans.push({ month: month.slice(0, 7), start: startOfLocalDay(month, timezone), end: startOfLocalDay(next, timezone) });
    month = next;
  }
  return spans;
}

/** A subscription with its first sale's value of every attribution dimension, in `GROUP_BY` order. */
interface KeyedSubscription {
  keys: (string | null)[];
  cancelledAt: number | null;
  periods: SubscriptionFacts["periods"];
}

interface Reading {
  seq: number;
  at: number;
  subs: KeyedSubscription[];
  /** The facts keyed by one dimension (or "total" for none), made when first asked for; they share the reading's periods. */
  views: Map<GroupBy | "total", SubscriptionFacts[]>;
}

/** Per notes key (the Database on SQLite, this node's notes object on PostgreSQL: src/reports/source.ts), per project. */
const loaded = new WeakMap<object, Map<string, Reading>>();
/** Read again after this long whatever this process saw written (another process may have written). */
const MAX_AGE_MS = 5 * 60_000;
/** The warm-up reads a project's subscriptions again this long before they would go stale, so a page never has to. */
const REFRESH_WITHIN_MS = 60_000;
/** One reading per project serves every grouping: 50,000 subscriptions hold some 40 MB. */
const MAX_LOADED = 4;

/**
 * The facts of every subscription of a project, keyed by its first sale's attribution (`groupBy`,
 * null for the total), kept in memory until a subscription, one of its periods or a payment
 * crediting it changes (reading 400,000 periods takes half a second). Callers only read what it returns.
 * On SQLite read on a miss; on PostgreSQL only after `primeSubscriptionsOn` (prime, then compute:
 * src/reports/source.ts), whose reading it takes whatever its age.
 */
export function subscriptionsOf(db: ReportDb, projectId: string, groupBy: GroupBy | null, now: number): readonly SubscriptionFacts[] {
  if (db instanceof PostgresReports) {
    const primed = loaded.get(notesKey(db))?.get(projectId);
    if (!primed) throw new NotPrimed("the project's subscriptions");
    return viewOf(primed, groupBy);
  }
  let reading = keptReading(db, projectId, now, 0);
  if (!reading) {
    const seq = subscriptionsSeq(db, projectId);
    reading = keep(db, projectId, { seq, at: now, subs: readAllPages(readSubscriptions(db, projectId)), views: new Map() });
  }
  return viewOf(reading, groupBy);
}

/** `subscriptionsOf` on either engine: on PostgreSQL primed first. */
export async function subscriptionsOn(db: ReportDb, projectId: string, groupBy: GroupBy | null, now: number): Promise<readonly SubscriptionFacts[]> {
  if (db instanceof PostgresReports) await primeSubscriptionsOn(db, projectId, now);
  return subscriptionsOf(db, projectId, groupBy, now);
}

/**
 * PostgreSQL: reads the project's subscriptions through the storage into what `subscriptionsOf` takes,
 * unless the kept reading still holds: nothing changed since (this node's notes, and the other nodes'
 * as they hear them) and it is younger than OTHER_NODES_MS, as another node may have written a
 * period whose note is still on its way (as the persons map, src/reports/people/windows.ts).
 */
export async function primeSubscriptionsOn(db: PostgresReports, projectId: string, now: number): Promise<void> {
  const hit = keptReading(db.notes, projectId, now, 0);
  if (hit && (!othersUnheard(db) || now - hit.at < OTHER_NODES_MS)) return;
  // Stamped before the first page: a change made meanwhile makes the reading stale.
  const seq = subscriptionsSeq(db.notes, projectId);
  keep(db.notes, projectId, { seq, at: now, subs: await readSubscriptionsFrom(db.storage, projectId), views: new Map() });
}

/**
 * Reads what `subscriptionsOf` would read, a page at a time with `pause()` awaited between pages, and
 * keeps it: the warm-up, so the MRR page's first view after a start (and after a change) reads memory.
 */
export async function primeSubscriptions(db: ReportDb, projectId: string, now: number, pause: () => Promise<unknown>): Promise<void> {
  let reading: Reading;
  if (db instanceof PostgresReports) {
    // PostgreSQL: read as the MRR page's prime reads it, which it then finds kept for OTHER_NODES_MS.
    await primeSubscriptionsOn(db, projectId, now);
    const kept = keptReading(db.notes, projectId, now, 0);
    if (!kept || kept.views.size > 0) return;
    reading = kept;
  } else {
    if (keptReading(db, projectId, now, REFRESH_WITHIN_MS)) return;
    // Stamped before the first page: a change made meanwhile makes the reading stale.
    const seq = subscriptionsSeq(db, projectId);
    reading = keep(db, projectId, { seq, at: now, subs: await readPagesPausing(readSubscriptions(db, projectId), pause), views: new Map() });
  }
  // Every grouping's view, so that no first view builds one.
  for (const groupBy of [...GROUP_BY, null]) {
    await pause();
    viewOf(reading, groupBy);
  }
}

function viewOf(reading: Reading, groupBy: GroupBy | null): SubscriptionFacts[] {
  const name = groupBy ?? "total";
  let view = reading.views.get(name);
  if (!view) {
    const at = groupBy ? GROUP_BY.indexOf(groupBy) : -1;
    view = reading.subs.map((sub) => ({ key: at < 0 ? null : (sub.keys[at] ?? null), cancelledAt: sub.cancelledAt, periods: sub.periods }));
    reading.views.set(name, view);
  }
  return view;
}

/** The project's kept reading, unless something changed since or it is (within `freshForMs` of being) too old. */
function keptReading(key: object, projectId: string, now: number, freshForMs: number): Reading | null {
  const hit = loaded.get(key)?.get(projectId);
  return hit && hit.seq === subscriptionsSeq(key, projectId) && now >= hit.at && now - hit.at < MAX_AGE_MS - freshForMs ? hit : null;
}

function keep(key: object, projectId: string, reading: Reading): Reading {
  let cache = loaded.get(key);
  if (!cache) loaded.set(key, (cache = new Map()));
  cache.delete(projectId);
  cache.set(projectId, reading);
  for (const oldest of cache.keys()) {
    if (cache.size <= MAX_LOADED) break;
    cache.delete(oldest);
  }
  return reading;
}

/** A page of each held the event loop ~70 ms at 5,000 and 20,000 (each head joins its first sale); a warm-up slice stays well under 50 ms. */
const HEADS_PAGE = 2_000;
const PERIODS_PAGE = 8_000;

type HeadRow = [provider: string, id: string, cancelledAt: number | null, ...keys: (string | null)[]];
type PeriodRow = [provider: string, id: string, start: number, end: number, interval: SubscriptionInterval, count: number, net: number | null];

/**
 * The two reads, a page each: subscriptions, then their periods, in primary-key order. PostgreSQL
 * compares and orders the text keys by bytes (COLLATE "C"), as SQLite does, so both engines list
 * subscriptions (and so MRR's keys) in one order.
 */
const bytes = (engine: Engine, column: string) => (engine === "sqlite" ? column : `${column} COLLATE "C"`);
const HEADS_READ = perEngine(
  (engine) => `SELECT s.provider, s.id, s.cancelled_at, ${GROUP_BY.map((dimension) => `f.${GROUP_BY_COLUMN[dimension]}`).join(", ")} FROM subscriptions s
     LEFT JOIN payments f ON f.id = COALESCE(s.first_payment_id, (SELECT payment_id FROM subscription_periods WHERE project_id = s.project_id AND provider = s.provider AND subscription_id = s.id ORDER BY period_start LIMIT 1))
     WHERE s.project_id = ? AND (${bytes(engine, "s.provider")}, ${bytes(engine, "s.id")}) > (?, ?) ORDER BY ${bytes(engine, "s.provider")}, ${bytes(engine, "s.id")} LIMIT ?`,
);
const PERIODS_READ = perEngine(
  (engine) => `SELECT provider, subscription_id, period_start, period_end, interval, interval_count, reporting_net FROM subscription_periods
     WHERE project_id = ? AND (${bytes(engine, "provider")}, ${bytes(engine, "subscription_id")}, period_start) > (?, ?, ?)
     ORDER BY ${bytes(engine, "provider")}, ${bytes(engine, "subscription_id")}, period_start LIMIT ?`,
);

/** What both engines' readers do with their pages: the same rows make the same subscriptions. */
function subscriptionCollector() {
  const subs = new Map<string, KeyedSubscription>();
  let sub: KeyedSubscription | undefined;
  let current = "";
  return {
    heads(page: HeadRow[]): void {
      for (const [provider, id, cancelledAt, ...keys] of page) subs.set(`${provider}\u0000${id}`, { keys, cancelledAt, periods: [] });
    },
    periods(page: PeriodRow[]): void {
      for (const [provider, id, start, end, interval, count, net] of page) {
        const of = `${provider}\u0000${id}`;
        if (of !== current) {
          current = of;
          sub = subs.get(of);
        }
        sub?.periods.push({ start, end, mrr: net === null ? null : monthlyAmount(net, interval, count) });
      }
    },
    done: (): KeyedSubscription[] => [...subs.values()].filter((s) => s.periods.length > 0),
  };
}

const FIRST_PERIOD: [string, string, number] = ["", "", -Number.MAX_SAFE_INTEGER];

/**
 * The facts of every subscription of a project, each with its first sale's attribution: subscriptions
 * and then their periods in primary-key order, a page per step, the periods carrying their converted net.
 */
export function* readSubscriptions(db: Database, projectId: string, pages = { heads: HEADS_PAGE, periods: PERIODS_PAGE }): Generator<void, KeyedSubscription[]> {
  const collect = subscriptionCollector();
  const heads = db.query<unknown, [string, string, string, number]>(HEADS_READ.sqlite);
  for (let after: [string, string] = ["", ""]; ; ) {
    const page = heads.values(projectId, ...after, pages.heads) as HeadRow[];
    collect.heads(page);
    if (page.length < pages.heads) break;
    after = [page.at(-1)![0], page.at(-1)![1]];
    yield;
  }
  const periods = db.query<unknown, [string, string, string, number, number]>(PERIODS_READ.sqlite);
  for (let after = FIRST_PERIOD; ; ) {
    const page = periods.values(projectId, ...after, pages.periods) as PeriodRow[];
    collect.periods(page);
    if (page.length < pages.periods) break;
    const last = page.at(-1)!;
    after = [last[0], last[1], last[2]];
    yield;
  }
  return collect.done();
}

/** The same reads through a storage (PostgreSQL's prime), its rows taken in the columns' order. */
export async function readSubscriptionsFrom(storage: Storage, projectId: string, pages = { heads: HEADS_PAGE, periods: PERIODS_PAGE }): Promise<KeyedSubscription[]> {
  const collect = subscriptionCollector();
  for (let after: [string, string] = ["", ""]; ; ) {
    const rows = await storage.all<Record<string, string | number | null>>(HEADS_READ[storage.engine], [projectId, ...after, pages.heads]);
    const page = rows.map((r) => [r.provider, r.id, r.cancelled_at, ...GROUP_BY.map((dimension) => r[GROUP_BY_COLUMN[dimension]])] as HeadRow);
    collect.heads(page);
    if (page.length < pages.heads) break;
    after = [page.at(-1)![0], page.at(-1)![1]];
  }
  for (let after = FIRST_PERIOD; ; ) {
    const rows = await storage.all<Record<string, string | number | null>>(PERIODS_READ[storage.engine], [projectId, ...after, pages.periods]);
    const page = rows.map((r) => [r.provider, r.subscription_id, r.period_start, r.period_end, r.interval, r.interval_count, r.reporting_net] as PeriodRow);
    collect.periods(page);
    if (page.length < pages.periods) break;
    const last = page.at(-1)!;
    after = [last[0], last[1], last[2]];
  }
  return collect.done();
}
