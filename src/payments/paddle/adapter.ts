// Turns Paddle Billing webhooks and API objects into ledger operations: transaction.completed is
// the payment (origin subscription_recurring: a renewal); adjustments are refunds once approved,
// and chargebacks. Amounts are strings in the lowest denomination; no customer email comes with a transaction.
import { flattenMetadata } from "../metadata.ts";
import { normalizeCurrency } from "../money.ts";
import { int, obj, PayloadError, str, time, type Json } from "../native.ts";
import { paymentOp, type AdapterResult, type LedgerOp, type PaymentFields } from "../types.ts";

export const PADDLE_EVENT_TYPES = ["transaction.completed", "adjustment.created", "adjustment.updated"] as const;

const RENEWAL_ORIGINS = new Set(["subscription_recurring", "subscription_charge", "subscription_update"]);
const CHARGEBACK_REVERSALS = new Set(["chargeback_reverse"]);
const CHARGEBACKS = new Set(["chargeback", ...CHARGEBACK_REVERSALS]);

const payment = (fields: PaymentFields): LedgerOp => paymentOp("paddle", fields);

function currencyOf(object: Json, what: string): string {
  const currency = normalizeCurrency(str(object.currency_code) ?? "");
  if (!currency) throw new PayloadError(`${what} has no valid currency_code`);
  return currency;
}

export function paddleEventToOps(event: Json): AdapterResult {
  const type = str(event.event_type) ?? "";
  const data = obj(event.data);
  if (!data || !str(data.id)) throw new PayloadError("the event carries no data object");
  const at = time(event.occurred_at) ?? Date.now();
  if (type === "transaction.completed") return paddleTransactionToOps(data);
  if (type === "adjustment.created" || type === "adjustment.updated") return paddleAdjustmentToOps(data, at);
  return { ignored: `Bantico does not use ${type || "untyped"} events` };
}

export function paddleTransactionToOps(t: Json): AdapterResult {
  const id = str(t.id)!;
  if (t.status !== "completed") return { ignored: `transaction ${id} is ${String(t.status)}; it counts once completed` };
  if (t.origin === "subscription_payment_method_change") return { ignored: "a payment method change moves no money" };
  const totals = obj(obj(t.details)?.totals) ?? {};
  const amount = int(totals.grand_total) ?? int(totals.total);
  if (amount === null) throw new PayloadError(`transaction ${id} has no totals`);
  if (amount <= 0) return { ignored: `transaction ${id} charged nothing` };
  const subscriptionId = str(t.subscription_id);
  const renewal = subscriptionId !== null && RENEWAL_ORIGINS.has(str(t.origin) ?? "");
  const occurredAt = time(t.billed_at) ?? time(t.created_at);
  if (occurredAt === null) throw new PayloadError(`transaction ${id} has no valid billed_at or created_at`);
  return {
    ops: [
      payment({
        kind: renewal ? "renewal" : "sale",
        key: `txn:${id}`,
        orderId: id,
        subscriptionId,
        customerId: str(t.customer_id),
        amount,
        tax: int(totals.tax) ?? 0,
        currency: currencyOf(t, `transaction ${id}`),
        metadata: flattenMetadata(t.custom_data),
        description: `Paddle transaction ${id} (${str(t.origin) ?? "web"})`,
        occurredAt,
        parent: renewal ? { subscriptionId } : null,
      }),
    ],
  };
}

/** Refunds count only once approved (most start pending_approval); chargebacks count when created. */
export function paddleAdjustmentToOps(adj: Json, at: number): AdapterResult {
  const id = str(adj.id)!;
  const action = str(adj.action) ?? "";
  const transactionId = str(adj.transaction_id);
  if (!transactionId) throw new PayloadError(`adjustment ${id} names no transaction`);
  const refund = action === "refund";
  if (!refund && !CHARGEBACKS.has(action)) return { ignored: `a ${action || "untyped"} adjustment moves no money Bantico counts` };
  if (refund && adj.status !== "approved") return { ignored: `refund ${id} is ${String(adj.status)}; it counts once approved` };
  const totals = obj(adj.totals) ?? {};
  const total = int(totals.total);
  if (total === null) throw new PayloadError(`adjustment ${id} has no totals`);
  const tax = int(totals.tax);
  const sign = CHARGEBACK_REVERSALS.has(action) ? 1 : -1;
  return {
    ops: [
      payment({
        kind: refund ? "refund" : "dispute",
        key: `adj:${id}`,
        orderId: transactionId,
        subscriptionId: str(adj.subscription_id),
        customerId: str(adj.customer_id),
        amount: sign * Math.abs(total),
        tax: tax === null ? null : sign * Math.abs(tax),
        currency: currencyOf(totals.currency_code ? totals : adj, `adjustment ${id}`),
        description: `Paddle ${refund ? `${str(adj.type) ?? ""} refund`.trim() : action.replaceAll("_", " ")} ${id} of transaction ${transactionId}`,
        occurredAt: time(adj.updated_at) ?? time(adj.created_at) ?? at,
        parent: { orderId: transactionId },
      }),
    ],
  };
}
