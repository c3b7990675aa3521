// Turns Creem webhooks and transactions into ledger operations. A payment is keyed by its
// transaction: a subscription's first charge arrives as checkout.completed and as subscription.paid
// naming the same transaction, and counts once. Nested objects mix ISO strings and epoch milliseconds.
import { flattenMetadata, mergeMetadata, normalizeEmail } from "../metadata.ts";
import { normalizeCurrency } from "../money.ts";
import { int, obj, PayloadError, str, time, type Json } from "../native.ts";
import { paymentOp, type AdapterResult, type LedgerOp, type PaymentFields } from "../types.ts";

export const CREEM_EVENT_TYPES = ["checkout.completed", "subscription.paid", "refund.created", "dispute.created"] as const;

const payment = (fields: PaymentFields): LedgerOp => paymentOp("creem", fields);

function currencyOf(value: unknown, what: string): string {
  const currency = normalizeCurrency(str(value) ?? "");
  if (!currency) throw new PayloadError(`${what} has no valid currency`);
  return currency;
}

export function creemEventToOps(event: Json): AdapterResult {
  const type = str(event.eventType) ?? "";
  const object = obj(event.object);
  if (!object) throw new PayloadError("the event carries no object");
  const at = time(event.created_at) ?? Date.now();
  switch (type) {
    case "checkout.completed":
      return checkoutCompleted(object, at);
    case "subscription.paid":
      return subscriptionPaid(object, at);
    case "refund.created":
      return refundCreated(object, at);
    case "dispute.created":
      return disputeCreated(object, at);
    default:
      return { ignored: `Bantico does not use ${type || "untyped"} events` };
  }
}

function checkoutCompleted(checkout: Json, at: number): AdapterResult {
  const order = obj(checkout.order);
  if (!order) return { ignored: "the checkout has no order" };
  const transactionId = str(order.transaction) ?? str(order.id)!;
  const paid = int(order.amount_paid) ?? (int(order.amount) ?? 0) + (int(order.tax_amount) ?? 0);
  if (paid <= 0) return { ignored: `order ${str(order.id)} charged nothing` };
  const subscription = obj(checkout.subscription);
  const subscriptionId = str(subscription?.id) ?? (typeof checkout.subscription === "string" ? checkout.subscription : null);
  return {
    ops: [
      payment({
        kind: "sale",
        kindFromSubscription: subscriptionId !== null,
        key: `tran:${transactionId}`,
        orderId: str(order.id),
        chargeId: transactionId,
        checkoutSessionId: str(checkout.id),
        subscriptionId,
        customerId: str(obj(checkout.customer)?.id),
        email: normalizeEmail(obj(checkout.customer)?.email),
        amount: paid,
        tax: int(order.tax_amount) ?? 0,
        currency: currencyOf(order.currency, `order ${str(order.id)}`),
        metadata: mergeMetadata(flattenMetadata(checkout.metadata), flattenMetadata(subscription?.metadata)),
        description: `Creem order ${str(order.id)} (${str(order.type) ?? "onetime"})`,
        occurredAt: time(order.created_at) ?? at,
      }),
    ],
  };
}

function subscriptionPaid(subscription: Json, at: number): AdapterResult {
  const id = str(subscription.id)!;
  const last = obj(subscription.last_transaction);
  const transactionId = str(last?.id) ?? str(subscription.last_transaction_id);
  if (!transactionId) return { ignored: `subscription ${id} names no transaction` };
  // Older payloads carry no charged amount: the product's price stands in, tax unknown.
  const amount = int(last?.amount_paid) ?? int(last?.amount) ?? int(obj(subscription.product)?.price);
  if (amount === null || amount <= 0) return { ignored: `subscription ${id}'s transaction ${transactionId} charged nothing` };
  return {
    ops: [
      payment({
        kind: "renewal",
        kindFromSubscription: true,
        key: `tran:${transactionId}`,
        chargeId: transactionId,
        subscriptionId: id,
        customerId: str(obj(subscription.customer)?.id),
        email: normalizeEmail(obj(subscription.customer)?.email),
        amount,
        tax: int(last?.tax_amount) ?? 0,
        currency: currencyOf(last?.currency ?? obj(subscription.product)?.currency, `subscription ${id}`),
        metadata: flattenMetadata(subscription.metadata),
        description: `Creem subscription ${id} payment ${transactionId}`,
        occurredAt: time(last?.created_at) ?? time(subscription.last_transaction_date) ?? at,
        parent: { subscriptionId: id },
      }),
    ],
  };
}

/** The transaction's cumulative refunded_amount decides the step, so webhook and pull agree. */
export function creemRefundOps(transaction: Json, fields: { currency: unknown; fallbackTotal: number | null; at: number; email?: string | null; metadata?: Record<string, string> }): LedgerOp[] {
  const transactionId = str(transaction.id);
  const total = int(transaction.refunded_amount) ?? fields.fallbackTotal;
  if (!transactionId || total === null || total <= 0) return [];
  return [
    payment({
      kind: "refund",
      key: `refund:${transactionId}:${total}`,
      chargeId: transactionId,
      email: fields.email ?? null,
      amount: -total,
      tax: null,
      currency: currencyOf(fields.currency ?? transaction.currency, `the refund of transaction ${transactionId}`),
      metadata: fields.metadata ?? {},
      description: `Creem refund of transaction ${transactionId}`,
      occurredAt: fields.at,
      parent: { chargeId: transactionId },
      cumulativeRefund: { scope: transactionId, total, totalTax: null },
    }),
  ];
}

function refundCreated(refund: Json, at: number): AdapterResult {
  const transaction = obj(refund.transaction);
  if (!transaction) throw new PayloadError(`refund ${str(refund.id)} names no transaction`);
  const ops = creemRefundOps(transaction, {
    currency: refund.refund_currency,
    fallbackTotal: int(refund.refund_amount),
    at: time(refund.created_at) ?? at,
    email: normalizeEmail(obj(refund.customer)?.email),
    metadata: mergeMetadata(flattenMetadata(obj(refund.checkout)?.metadata), flattenMetadata(obj(refund.subscription)?.metadata)),
  });
  return ops.length ? { ops } : { ignored: `refund ${str(refund.id)} refunds nothing` };
}

function disputeCreated(dispute: Json, at: number): AdapterResult {
  const id = str(dispute.id)!;
  const transactionId = str(obj(dispute.transaction)?.id) ?? str(dispute.transaction);
  const amount = int(dispute.amount);
  if (!transactionId || amount === null) throw new PayloadError(`dispute ${id} has no transaction or amount`);
  return {
    ops: [
      payment({
        kind: "dispute",
        key: `dispute:${id}`,
        chargeId: transactionId,
        amount: -Math.abs(amount),
        tax: null,
        currency: currencyOf(dispute.currency, `dispute ${id}`),
        description: `Creem dispute ${id} on transaction ${transactionId}`,
        occurredAt: time(dispute.created_at) ?? at,
        parent: { chargeId: transactionId },
      }),
    ],
  };
}

/** A transaction read from the API (pull): it carries no metadata, so attribution comes from a webhook or the email. */
export function creemTransactionToOps(t: Json): AdapterResult {
  const id = str(t.id)!;
  if (t.type === "refund" || /^(failed|pending|void)/i.test(str(t.status) ?? "")) return { ignored: `transaction ${id} is not a payment` };
  const amount = int(t.amount_paid) ?? int(t.amount);
  if (amount === null || amount <= 0) return { ignored: `transaction ${id} charged nothing` };
  const subscriptionId = str(obj(t.subscription)?.id) ?? str(t.subscription);
  const occurredAt = time(t.created_at);
  if (occurredAt === null) throw new PayloadError(`transaction ${id} has no valid created_at`);
  const sale = payment({
    kind: "sale",
    kindFromSubscription: subscriptionId !== null,
    key: `tran:${id}`,
    orderId: str(obj(t.order)?.id) ?? str(t.order),
    chargeId: id,
    subscriptionId,
    customerId: str(obj(t.customer)?.id) ?? str(t.customer),
    amount,
    tax: int(t.tax_amount) ?? 0,
    currency: currencyOf(t.currency, `transaction ${id}`),
    description: `Creem transaction ${id}`,
    occurredAt,
    parent: subscriptionId ? { subscriptionId } : null,
  });
  return { ops: [sale, ...creemRefundOps(t, { currency: t.currency, fallbackTotal: null, at: occurredAt })] };
}
