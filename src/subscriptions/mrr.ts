// MRR (SPEC §5): each subscription's paid periods normalised to a month, read as of each month's
// end; new, expansion, contraction and churned MRR per month and attribution key, in the reporting
// currency, credited to the subscription's first sale. The movements are a pure function of facts.
import type { Database } from "bun:sqlite";
import { multiplyHalfEven } from "../payments/fx/convert.ts";
import { addDays, localDate, startOfLocalDay } from "../dashboard/range.ts";
import { GROUP_BY_COLUMN, type GroupBy } from "../reports/attribution.ts";
import type { SubscriptionInterval } from "../payments/types.ts";
import { subscriptionsSeq } from "../reports/writes.ts";

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

const loaded = new WeakMap<Database, Map<string, { seq: number; at: number; subs: SubscriptionFacts[] }>>();
/** Read again after this long whatever this process saw written (another process may have written). */
const MAX_AGE_MS = 5 * 60_000;
/** A few groupings of a few projects: 50,000 subscriptions hold some 40 MB. */
const MAX_LOADED = 8;

/**
 * The facts of every subscription of a project (see `readSubscriptions`), kept in memory until a
 * subscription, one of its periods or a payment crediting it changes (reading 400,000 periods takes
 * half a second). Callers only read what it returns.
 */
export function subscriptionsOf(db: Database, projectId: string, groupBy: GroupBy | null, now: number): readonly SubscriptionFacts[] {
  const kept = keptSubscriptions(db, projectId, groupBy, now);
  if (kept) return kept;
  const seq = subscriptionsSeq(db, projectId);
  const reading = readSubscriptions(db, projectId, groupBy);
  let page = reading.next();
  while (!page.done) page = reading.next();
  keepSubscriptions(db, projectId, groupBy, { seq, at: now, subs: page.value });
  return page.value;
}

/**
 * Reads what `subscriptionsOf` would read, a page at a time with `pause()` awaited between pages, and
 * keeps it: the warm-up, so the MRR page's first view after a start reads memory.
 */
export async function primeSubscriptions(db: Database, projectId: string, groupBy: GroupBy | null, now: number, pause: () => Promise<unknown>): Promise<void> {
  if (keptSubscriptions(db, projectId, groupBy, now)) return;
  // Stamped before the first page: a change made meanwhile makes the reading stale.
  const seq = subscriptionsSeq(db, projectId);
  const reading = readSubscriptions(db, projectId, groupBy);
  let page = reading.next();
  while (!page.done) {
    await pause();
    page = reading.next();
  }
  keepSubscriptions(db, projectId, groupBy, { seq, at: now, subs: page.value });
}

function keptSubscriptions(db: Database, projectId: string, groupBy: GroupBy | null, now: number): SubscriptionFacts[] | null {
  const hit = loaded.get(db)?.get(`${projectId}|${groupBy}`);
  return hit && hit.seq === subscriptionsSeq(db, projectId) && now >= hit.at && now - hit.at < MAX_AGE_MS ? hit.subs : null;
}

function keepSubscriptions(db: Database, projectId: string, groupBy: GroupBy | null, entry: { seq: number; at: number; subs: SubscriptionFacts[] }): void {
  let cache = loaded.get(db);
  if (!cache) loaded.set(db, (cache = new Map()));
  const key = `${projectId}|${groupBy}`;
  cache.delete(key);
  cache.set(key, entry);
  for (const oldest of cache.keys()) {
    if (cache.size <= MAX_LOADED) break;
    cache.delete(oldest);
  }
}

const HEADS_PAGE = 5_000;
const PERIODS_PAGE = 20_000;

/**
 * The facts of every subscription of a project, each keyed by its first sale's attribution (`groupBy`),
 * or null for the total: subscriptions and then their periods in primary-key order, a page per step,
 * the periods carrying their converted net.
 */
export function* readSubscriptions(
  db: Database,
  projectId: string,
  groupBy: GroupBy | null,
  pages = { heads: HEADS_PAGE, periods: PERIODS_PAGE },
): Generator<void, SubscriptionFacts[]> {
  const key = groupBy ? `f.${GROUP_BY_COLUMN[groupBy]}` : "NULL";
  const heads = db.query<unknown, [string, string, string]>(
    `SELECT s.provider, s.id, s.cancelled_at, ${key} FROM subscriptions s
     ${groupBy ? "LEFT JOIN payments f ON f.id = COALESCE(s.first_payment_id, (SELECT payment_id FROM subscription_periods WHERE project_id = s.project_id AND provider = s.provider AND subscription_id = s.id ORDER BY period_start LIMIT 1))" : ""}
     WHERE s.project_id = ? AND (s.provider, s.id) > (?, ?) ORDER BY s.provider, s.id LIMIT ${pages.heads}`,
  );
  const subs = new Map<string, SubscriptionFacts>();
  for (let after: [string, string] = ["", ""]; ; ) {
    const page = heads.values(projectId, ...after) as [string, string, number | null, string | null][];
    for (const [provider, id, cancelledAt, k] of page) subs.set(`${provider}\u0000${id}`, { key: k, cancelledAt, periods: [] });
    if (page.length < pages.heads) break;
    after = [page.at(-1)![0], page.at(-1)![1]];
    yield;
  }
  const periods = db.query<unknown, [string, string, string, number]>(
    `SELECT provider, subscription_id, period_start, period_end, interval, interval_count, reporting_net FROM subscription_periods
     WHERE project_id = ? AND (provider, subscription_id, period_start) > (?, ?, ?) ORDER BY provider, subscription_id, period_start LIMIT ${pages.periods}`,
  );
  let sub: SubscriptionFacts | undefined;
  let current = "";
  for (let after: [string, string, number] = ["", "", -Number.MAX_SAFE_INTEGER]; ; ) {
    const page = periods.values(projectId, ...after) as [string, string, number, number, SubscriptionInterval, number, number | null][];
    for (const [provider, id, start, end, interval, count, net] of page) {
      const of = `${provider}\u0000${id}`;
      if (of !== current) {
        current = of;
        sub = subs.get(of);
      }
      sub?.periods.push({ start, end, mrr: net === null ? null : monthlyAmount(net, interval, count) });
    }
    if (page.length < pages.periods) break;
    const last = page.at(-1)!;
    after = [last[0], last[1], last[2]];
    yield;
  }
  return [...subs.values()].filter((s) => s.periods.length > 0);
}
