// MRR (SPEC §5): each subscription's paid periods normalised to a month, read as of each month's
// end; new, expansion, contraction and churned MRR per month and attribution key, in the reporting
// currency, credited to the subscription's first sale. The movements are a pure function of facts.
import type { Database } from "bun:sqlite";
import { roundHalfEven } from "../payments/fx/convert.ts";
import { addDays, localDate, startOfLocalDay } from "../dashboard/range.ts";
import { GROUP_BY_COLUMN, type GroupBy } from "../reports/attribution.ts";
import type { SubscriptionInterval } from "../payments/types.ts";

/** A period ending without a renewal within this long lapses (and churns) at its end. */
export const RENEWAL_GRACE_MS = 3 * 86_400_000;

/** A period's recurring amount per month, in minor units, rounded once (half to even): a year ÷ 12, a week × 52/12, a day × 365/12. */
export function monthlyAmount(amount: number, interval: SubscriptionInterval, count: number): number {
  const perMonth: Record<SubscriptionInterval, { n: bigint; d: bigint }> = { day: { n: 365n, d: 12n }, week: { n: 52n, d: 12n }, month: { n: 1n, d: 1n }, year: { n: 1n, d: 12n } };
  const { n, d } = perMonth[interval];
  return Number(roundHalfEven(BigInt(amount) * n, d * BigInt(count)));
}

export interface SubscriptionFacts {
  key: string | null;
  cancelledAt: number | null;
  /** Paid periods in order; `mrr` null when its payment has no rate into the reporting currency. */
  periods: { start: number; end: number; mrr: number | null }[];
}

/** The subscription's MRR at instant `t`, judged with what is known at `now`. */
export function mrrAt(sub: SubscriptionFacts, t: number, now: number): number {
  if (sub.cancelledAt !== null && t >= sub.cancelledAt) return 0;
  let index = -1;
  for (let i = 0; i < sub.periods.length && sub.periods[i]!.start <= t; i++) index = i;
  if (index < 0) return 0;
  const current = sub.periods[index]!;
  const mrr = current.mrr ?? 0;
  if (t < current.end) return mrr;
  const next = sub.periods[index + 1];
  // Renewed within the grace: no gap. Not renewed yet, but the grace is not over: still counted.
  if (next ? next.start - current.end <= RENEWAL_GRACE_MS : now < current.end + RENEWAL_GRACE_MS) return mrr;
  return 0;
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

/** Rows per month and key, keys in order of their MRR at the last month's end; every month has a row for every key seen. */
export function mrrMovements(subs: readonly SubscriptionFacts[], months: readonly MonthSpan[], now: number, currency: string): MrrRow[] {
  const keys = [...new Set(subs.map((s) => s.key))];
  const rows: MrrRow[] = [];
  for (const month of months) {
    const byKey = new Map<string | null, MrrRow>(keys.map((key) => [key, { month: month.month, key, mrr: 0, new: 0, expansion: 0, contraction: 0, churned: 0, activeSubscriptions: 0, currency }]));
    const asOf = Math.min(month.end - 1, now);
    for (const sub of subs) {
      const row = byKey.get(sub.key)!;
      // Walk every instant the subscription could change within the month, so one that starts and
      // ends inside it counts as new and as churned.
      const changes = [...sub.periods.flatMap((p) => [p.start, p.end]), sub.cancelledAt ?? Infinity].filter((t) => t >= month.start && t < asOf);
      let previous = mrrAt(sub, month.start - 1, now);
      for (const t of [...changes.sort((a, b) => a - b), asOf]) {
        const current = mrrAt(sub, t, now);
        if (previous === 0 && current > 0) row.new += current;
        else if (previous > 0 && current === 0) row.churned += previous;
        else if (current > previous) row.expansion += current - previous;
        else row.contraction += previous - current;
        previous = current;
      }
      row.mrr += previous;
      if (previous > 0) row.activeSubscriptions++;
    }
    rows.push(...byKey.values());
  }
  return rows;
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

interface PeriodRow {
  provider: string;
  id: string;
  cancelled_at: number | null;
  key: string | null;
  period_start: number;
  period_end: number;
  interval: SubscriptionInterval;
  interval_count: number;
  reporting_net: number | null;
}

/** The facts of every subscription of a project, each keyed by its first sale's attribution (`groupBy`), or null for the total. */
export function loadSubscriptions(db: Database, projectId: string, groupBy: GroupBy | null): SubscriptionFacts[] {
  const key = groupBy ? `f.${GROUP_BY_COLUMN[groupBy]}` : "NULL";
  const rows = db
    .query<PeriodRow, [string]>(
      `SELECT s.provider, s.id, s.cancelled_at, ${key} AS key, p.period_start, p.period_end, p.interval, p.interval_count, pay.reporting_net
       FROM subscriptions s
       JOIN subscription_periods p ON p.project_id = s.project_id AND p.provider = s.provider AND p.subscription_id = s.id
       JOIN payments pay ON pay.id = p.payment_id
       LEFT JOIN payments f ON f.id = COALESCE(s.first_payment_id,
         (SELECT payment_id FROM subscription_periods WHERE project_id = s.project_id AND provider = s.provider AND subscription_id = s.id ORDER BY period_start LIMIT 1))
       WHERE s.project_id = ? ORDER BY s.provider, s.id, p.period_start`,
    )
    .all(projectId);
  const subs = new Map<string, SubscriptionFacts>();
  for (const r of rows) {
    const id = `${r.provider}\u0000${r.id}`;
    let sub = subs.get(id);
    if (!sub) subs.set(id, (sub = { key: r.key, cancelledAt: r.cancelled_at, periods: [] }));
    sub.periods.push({ start: r.period_start, end: r.period_end, mrr: r.reporting_net === null ? null : monthlyAmount(r.reporting_net, r.interval, r.interval_count) });
  }
  return [...subs.values()];
}
