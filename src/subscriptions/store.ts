// Subscriptions and their paid periods, written by the ledger in its transaction: each sale or
// renewal of a subscription pays one period; a cancellation ends its MRR.
import type { JobSteps, JobTx } from "../db/storage/jobs.ts";
import { noteSubscriptionsChanged } from "../reports/writes.ts";
import type { SubscriptionInterval, SubscriptionTerms } from "../payments/types.ts";

/** `start` plus `count` calendar intervals (UTC); a month from 31 Jan ends on the last day of February. */
export function addIntervals(start: number, interval: SubscriptionInterval, count: number): number {
  if (interval === "day") return start + count * 86_400_000;
  if (interval === "week") return start + count * 7 * 86_400_000;
  const d = new Date(start);
  const months = interval === "year" ? 12 * count : count;
  const target = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d.getUTCDate(), lastDay));
  return target.getTime();
}

interface StoredTerms {
  interval: SubscriptionInterval;
  interval_count: number;
}

const UPSERT_SUBSCRIPTION = `INSERT INTO subscriptions (project_id, provider, id, first_payment_id, interval, interval_count, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (project_id, provider, id) DO UPDATE SET interval = excluded.interval, interval_count = excluded.interval_count, updated_at = excluded.updated_at,
    first_payment_id = COALESCE(subscriptions.first_payment_id, excluded.first_payment_id)`;

const UPSERT_PERIOD = `INSERT INTO subscription_periods (project_id, provider, subscription_id, period_start, period_end, payment_id, interval, interval_count, reporting_net)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, (SELECT reporting_net FROM payments WHERE id = ?))
  ON CONFLICT (project_id, provider, subscription_id, period_start) DO UPDATE SET period_end = excluded.period_end, payment_id = excluded.payment_id,
    interval = excluded.interval, interval_count = excluded.interval_count, reporting_net = excluded.reporting_net`;

/** A sale or renewal of a subscription: the subscription exists, and the period it pays is recorded. */
export function* recordSubscriptionPayment(
  tx: JobTx,
  projectId: string,
  payment: { id: string; provider: string; kind: string; subscriptionId: string; occurredAt: number; terms: SubscriptionTerms | null | undefined },
  now: number,
): JobSteps<void> {
  const stored = yield* tx.get<StoredTerms>("SELECT interval, interval_count FROM subscriptions WHERE project_id = ? AND provider = ? AND id = ?", [
    projectId,
    payment.provider,
    payment.subscriptionId,
  ]);
  const interval = payment.terms?.interval ?? stored?.interval;
  const count = payment.terms?.intervalCount ?? stored?.interval_count ?? 1;
  if (!interval) return;
  yield* tx.note(noteSubscriptionsChanged, projectId);
  yield* tx.run(UPSERT_SUBSCRIPTION, [projectId, payment.provider, payment.subscriptionId, payment.kind === "sale" ? payment.id : null, interval, count, now, now]);
  if (payment.kind === "sale") {
    // The first sale carries the attribution, whatever arrived before it.
    yield* tx.run("UPDATE subscriptions SET first_payment_id = ? WHERE project_id = ? AND provider = ? AND id = ?", [payment.id, projectId, payment.provider, payment.subscriptionId]);
  }
  const start = payment.terms?.periodStart ?? payment.occurredAt;
  const end = payment.terms?.periodEnd ?? addIntervals(start, interval, count);
  if (end <= start) return;
  yield* tx.run(UPSERT_PERIOD, [projectId, payment.provider, payment.subscriptionId, start, end, payment.id, interval, count, payment.id]);
}

/** Ends a subscription's MRR at `at`; false when the subscription is unknown. */
export function* cancelSubscription(tx: JobTx, projectId: string, provider: string, subscriptionId: string, at: number, now: number): JobSteps<boolean> {
  yield* tx.note(noteSubscriptionsChanged, projectId);
  const { changes } = yield* tx.run("UPDATE subscriptions SET cancelled_at = ?, updated_at = ? WHERE project_id = ? AND provider = ? AND id = ?", [at, now, projectId, provider, subscriptionId]);
  return changes > 0;
}
