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
 * `loadSubscriptions`, kept in memory until a subscription, one of its periods or a payment crediting
 * it changes (reading 400,000 periods takes half a second). Callers only read what it returns.
 */
export function subscriptionsOf(db: Database, projectId: string, groupBy: GroupBy | null, now: number): readonly SubscriptionFacts[] {
  let cache = loaded.get(db);
  if (!cache) loaded.set(db, (cache = new Map()));
  const key = `${projectId}|${groupBy}`;
  const hit = cache.get(key);
  const seq = subscriptionsSeq(db, projectId);
  if (hit && hit.seq === seq && now >= hit.at && now - hit.at < MAX_AGE_MS) return hit.subs;
  const subs = loadSubscriptions(db, projectId, groupBy);
  cache.delete(key);
  cache.set(key, { seq, at: now, subs });
  for (const oldest of cache.keys()) {
    if (cache.size <= MAX_LOADED) break;
    cache.delete(oldest);
  }
  return subs;
}

/**
 * The facts of every subscription of a project, each keyed by its first sale's attribution (`groupBy`),
 * or null for the total: two reads in primary-key order, the periods carrying their converted net.
 */
function loadSubscriptions(db: Database, projectId: string, groupBy: GroupBy | null): SubscriptionFacts[] {
  const key = groupBy ? `f.${GROUP_BY_COLUMN[groupBy]}` : "NULL";
  const heads = db
    .query<unknown, [string]>(
      `SELECT s.provider, s.id, s.cancelled_at, ${key} FROM subscriptions s
       ${groupBy ? "LEFT JOIN payments f ON f.id = COALESCE(s.first_payment_id, (SELECT payment_id FROM subscription_periods WHERE project_id = s.project_id AND provider = s.provider AND subscription_id = s.id ORDER BY period_start LIMIT 1))" : ""}
       WHERE s.project_id = ?`,
    )
    .values(projectId) as [string, string, number | null, string | null][];
  const subs = new Map<string, SubscriptionFacts>();
  for (const [provider, id, cancelledAt, k] of heads) subs.set(`${provider}\u0000${id}`, { key: k, cancelledAt, periods: [] });
  const periods = db
    .query<unknown, [string]>(
      `SELECT provider, subscription_id, period_start, period_end, interval, interval_count, reporting_net FROM subscription_periods WHERE project_id = ?
       ORDER BY provider, subscription_id, period_start`,
    )
    .values(projectId) as [string, string, number, number, SubscriptionInterval, number, number | null][];
  let sub: SubscriptionFacts | undefined;
  let current = "";
  for (const [provider, id, start, end, interval, count, net] of periods) {
    const of = `${provider}\u0000${id}`;
    if (of !== current) {
      current = of;
      sub = subs.get(of);
    }
    sub?.periods.push({ start, end, mrr: net === null ? null : monthlyAmount(net, interval, count) });
  }
  return [...subs.values()].filter((s) => s.periods.length > 0);
}
