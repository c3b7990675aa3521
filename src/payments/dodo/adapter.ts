// Turns Dodo Payments webhooks and API objects into ledger operations. The webhook `data` is the
// object itself (metadata at data.metadata, not data.object.metadata as Dodo's guide shows).
import { flattenMetadata, normalizeEmail } from "../metadata.ts";
import { normalizeCurrency } from "../money.ts";
import { int, obj, PayloadError, str, time, type Json } from "../native.ts";
import { paymentOp, type AdapterResult, type LedgerOp, type PaymentFields } from "../types.ts";

export const DODO_EVENT_TYPES = ["payment.succeeded", "refund.succeeded", "dispute.opened", "dispute.won"] as const;

function currencyOf(object: Json, what: string): string {
  const currency = normalizeCurrency(str(object.currency) ?? "");
  if (!currency) throw new PayloadError(`${what} has no valid currency`);
  return currency;
}

const payment = (fields: PaymentFields): LedgerOp => paymentOp("dodo", fields);

export function dodoEventToOps(event: Json): AdapterResult {
  const type = str(event.type) ?? "";
  const data = obj(event.data);
  if (!data) throw new PayloadError("the event carries no data");
  const at = time(event.timestamp) ?? Date.now();
  switch (type) {
    case "payment.succeeded":
      return dodoPaymentToOps(data);
    case "refund.succeeded":
      return { ops: [dodoRefund(data, at)] };
    case "dispute.opened":
    case "dispute.won":
      return dodoDispute(data, at, type === "dispute.won");
    default:
      return { ignored: `Bantico does not use ${type || "untyped"} events` };
  }
}

/** A succeeded payment: a sale, or a subscription's payment (the first is the sale); refunds it lists ride along. */
export function dodoPaymentToOps(p: Json): AdapterResult {
  const id = str(p.payment_id);
  if (!id) throw new PayloadError("the payment has no payment_id");
  if (str(p.status) !== null && p.status !== "succeeded") return { ignored: `payment ${id} is ${String(p.status)}` };
  const amount = int(p.total_amount);
  if (amount === null || amount <= 0) return { ignored: `payment ${id} charged nothing` };
  const subscriptionId = str(p.subscription_id) ?? (Array.isArray(p.subscription_ids) ? str(p.subscription_ids[0]) : null);
  const occurredAt = time(p.created_at);
  if (occurredAt === null) throw new PayloadError(`payment ${id} has no valid created_at`);
  const customer = obj(p.customer);
  const ops: LedgerOp[] = [
    payment({
      kind: "sale",
      kindFromSubscription: subscriptionId !== null,
      key: `pay:${id}`,
      orderId: id,
      checkoutSessionId: str(p.checkout_session_id),
      subscriptionId,
      customerId: str(customer?.customer_id),
      email: normalizeEmail(customer?.email),
      amount,
      tax: int(p.tax),
      currency: currencyOf(p, `payment ${id}`),
      metadata: flattenMetadata(p.metadata),
      description: `Dodo payment ${id}${subscriptionId ? ` (subscription ${subscriptionId})` : ""}`,
      occurredAt,
    }),
  ];
  // Dodo delivers the payment as it is at delivery time, so a retry may already list its refunds.
  for (const refund of Array.isArray(p.refunds) ? p.refunds : []) {
    const r = obj(refund);
    if (r && (r.status === undefined || r.status === "succeeded")) ops.push(dodoRefund({ ...r, payment_id: id, currency: r.currency ?? p.currency }, occurredAt));
  }
  return { ops };
}

export function dodoRefund(r: Json, at: number): LedgerOp {
  const id = str(r.refund_id);
  const paymentId = str(r.payment_id);
  const amount = int(r.amount);
  if (!id || !paymentId || amount === null) throw new PayloadError("the refund has no refund_id, payment_id or amount");
  return payment({
    kind: "refund",
    key: `refund:${id}`,
    orderId: paymentId,
    customerId: str(obj(r.customer)?.customer_id),
    email: normalizeEmail(obj(r.customer)?.email),
    amount: -Math.abs(amount),
    tax: null,
    currency: currencyOf(r, `refund ${id}`),
    metadata: flattenMetadata(r.metadata),
    description: `Dodo refund ${id} of payment ${paymentId}${r.is_partial === true ? " (partial)" : ""}`,
    occurredAt: time(r.created_at) ?? at,
    parent: { orderId: paymentId },
  });
}

function dodoDispute(d: Json, at: number, won: boolean): AdapterResult {
  const id = str(d.dispute_id);
  const paymentId = str(d.payment_id);
  const amount = int(d.amount);
  if (!id || !paymentId || amount === null) throw new PayloadError("the dispute has no dispute_id, payment_id or amount");
  const base = { orderId: paymentId, currency: currencyOf(d, `dispute ${id}`), parent: { orderId: paymentId }, tax: null };
  const opened = payment({ ...base, kind: "dispute", key: `dispute:${id}`, amount: -Math.abs(amount), occurredAt: time(d.created_at) ?? at, description: `Dodo dispute ${id} on payment ${paymentId}` });
  if (!won) return { ops: [opened] };
  // A won dispute that was never seen opening still nets to zero: both steps are recorded once each.
  return { ops: [opened, payment({ ...base, kind: "dispute", key: `dispute:${id}:won`, amount: Math.abs(amount), occurredAt: at, description: `Dodo dispute ${id} won: funds reinstated` })] };
}
