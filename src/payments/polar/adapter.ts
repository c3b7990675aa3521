// Turns Polar orders (from webhooks or orders.list) into ledger operations. The only code that
// knows Polar's payload shape (SDK 1.0 models: snake_case).
import { flattenMetadata, normalizeEmail } from "../metadata.ts";
import { normalizeCurrency, unknownCurrencyMessage } from "../money.ts";
import { emptyPayment, SUBSCRIPTION_INTERVALS, type AdapterResult, type IncomingPayment, type LedgerOp, type SubscriptionInterval, type SubscriptionTerms } from "../types.ts";

/** The fields of a Polar `Order` that Bantico reads. */
export interface PolarOrderLike {
  id: string;
  created_at: string;
  modified_at?: string | null;
  status: string;
  paid?: boolean;
  net_amount: number;
  tax_amount: number;
  total_amount: number;
  refunded_amount: number;
  refunded_tax_amount: number;
  currency: string;
  billing_reason: string;
  customer_id: string;
  subscription_id: string | null;
  metadata: Record<string, unknown>;
  customer?: { email?: string | null } | null;
  subscription?: PolarSubscriptionLike | null;
}

export const POLAR_EVENT_TYPES = ["order.paid", "order.refunded", "subscription.canceled", "subscription.revoked"] as const;

/** The fields of a Polar `Subscription` that Bantico reads (on its events, and inside an order). */
interface PolarSubscriptionLike {
  id: string;
  recurring_interval?: string | null;
  recurring_interval_count?: number | null;
  current_period_start?: string | null;
  current_period_end?: string | null;
  ends_at?: string | null;
  ended_at?: string | null;
  canceled_at?: string | null;
}

const PAID_STATUSES = new Set(["paid", "refunded", "partially_refunded"]);
const LATER_PAYMENTS = new Set(["subscription_cycle", "subscription_update", "subscription_meter_cycle"]);

export class PolarPayloadError extends Error {}

const time = (value: string | null | undefined): number | null => {
  const ms = value ? Date.parse(value) : NaN;
  return Number.isFinite(ms) ? ms : null;
};

/** A subscription's interval (Polar's recurring_interval) and, when the order falls in it, its current period. */
function subscriptionTerms(subscription: PolarSubscriptionLike | null | undefined, paidAt: number): SubscriptionTerms | null {
  const interval = subscription?.recurring_interval;
  if (!subscription || !interval || !(SUBSCRIPTION_INTERVALS as readonly string[]).includes(interval)) return null;
  const start = time(subscription.current_period_start);
  const end = time(subscription.current_period_end);
  const inPeriod = start !== null && end !== null && start <= paidAt + 86_400_000 && paidAt < end;
  return { interval: interval as SubscriptionInterval, intervalCount: subscription.recurring_interval_count ?? 1, ...(inPeriod ? { periodStart: start, periodEnd: end } : {}) };
}

/** Cancelled (ends at the period's end) or revoked (ends now): the subscription's MRR stops then. */
function subscriptionEnded(subscription: PolarSubscriptionLike, at: number | null): AdapterResult {
  if (typeof subscription?.id !== "string") throw new PolarPayloadError("the event carries no subscription");
  const ends = time(subscription.ended_at) ?? time(subscription.ends_at) ?? time(subscription.canceled_at) ?? at;
  if (ends === null) throw new PolarPayloadError(`subscription ${subscription.id} ends at no known time`);
  return { ops: [{ op: "subscription_cancel", provider: "polar", subscriptionId: subscription.id, at: ends }] };
}

export function polarEventToOps(event: { type: string; timestamp?: string; data: unknown }): AdapterResult {
  if (event.type === "subscription.canceled" || event.type === "subscription.revoked") {
    return subscriptionEnded(event.data as PolarSubscriptionLike, time(event.timestamp));
  }
  if (event.type !== "order.paid" && event.type !== "order.refunded") return { ignored: `Bantico does not use ${event.type} events` };
  const order = event.data as PolarOrderLike | null;
  if (!order || typeof order !== "object" || typeof order.id !== "string") throw new PolarPayloadError("the event carries no order");
  const refundedAt = event.timestamp ? Date.parse(event.timestamp) : NaN;
  return polarOrderToOps(order, event.type === "order.refunded" && Number.isFinite(refundedAt) ? refundedAt : null);
}

/** A paid order is a sale or renewal; its cumulative refunded amount, if any, adds a refund step. */
export function polarOrderToOps(order: PolarOrderLike, refundedAt: number | null = null): AdapterResult {
  if (!PAID_STATUSES.has(order.status) && order.paid !== true) return { ignored: `order ${order.id} is ${order.status}` };
  if (!(order.total_amount > 0)) return { ignored: `order ${order.id} charged nothing` };
  const currency = normalizeCurrency(order.currency ?? "");
  if (!currency) throw new PolarPayloadError(`order ${order.id}: ${unknownCurrencyMessage(String(order.currency ?? ""))}`);
  const createdAt = Date.parse(order.created_at);
  if (!Number.isFinite(createdAt)) throw new PolarPayloadError(`order ${order.id} has no valid created_at`);
  const renewal = order.subscription_id !== null && LATER_PAYMENTS.has(order.billing_reason);
  const common = {
    ...emptyPayment("polar"),
    orderId: order.id,
    subscriptionId: order.subscription_id ?? null,
    customerId: order.customer_id ?? null,
    email: normalizeEmail(order.customer?.email),
    currency,
    metadata: flattenMetadata(order.metadata),
  };
  const sale: IncomingPayment = {
    ...common,
    kind: renewal ? "renewal" : "sale",
    key: `order:${order.id}`,
    amount: order.total_amount,
    tax: order.tax_amount ?? 0,
    description: `Polar order ${order.id} (${order.billing_reason})`,
    occurredAt: createdAt,
    parent: renewal && order.subscription_id ? { subscriptionId: order.subscription_id } : null,
    subscription: order.subscription_id ? subscriptionTerms(order.subscription, createdAt) : null,
  };
  const ops: LedgerOp[] = [{ op: "payment", payment: sale }];
  if (order.refunded_amount > 0) {
    const modified = order.modified_at ? Date.parse(order.modified_at) : NaN;
    ops.push({
      op: "payment",
      payment: {
        ...common,
        kind: "refund",
        key: `refund:${order.id}:${order.refunded_amount}`,
        amount: -order.refunded_amount,
        tax: null,
        description: `Polar refund of order ${order.id}${order.status === "refunded" ? " (full)" : " (partial)"}`,
        occurredAt: refundedAt ?? (Number.isFinite(modified) ? modified : createdAt),
        parent: { orderId: order.id },
        cumulativeRefund: { scope: order.id, total: order.refunded_amount, totalTax: order.refunded_tax_amount ?? null },
      },
    });
  }
  return { ops };
}
