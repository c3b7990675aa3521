// Turns Stripe events into ledger operations. The only code that knows Stripe's payload shapes;
// it reads them defensively because webhooks come in the endpoint's API version and pulled events
// in the version current when they were created.
import { flattenMetadata, mergeMetadata, normalizeEmail } from "../metadata.ts";
import { normalizeCurrency, unknownCurrencyMessage } from "../money.ts";
import { emptyPayment, paymentOp, type AdapterResult, type IncomingPayment, type LedgerOp, type PaymentKind, type PaymentFields, type SubscriptionInterval, type SubscriptionTerms } from "../types.ts";

/** The event types Bantico asks Stripe for (webhook endpoint and events.list). */
export const STRIPE_EVENT_TYPES = [
  "checkout.session.completed",
  "checkout.session.async_payment_succeeded",
  "invoice.paid",
  "invoice_payment.paid",
  "payment_intent.succeeded",
  "charge.refunded",
  "charge.dispute.created",
  "charge.dispute.closed",
  "customer.subscription.updated",
  "customer.subscription.deleted",
] as const;

export interface StripeEventLike {
  id: string;
  type: string;
  created: number;
  data: { object: unknown };
}

type Json = Record<string, unknown>;

function obj(value: unknown): Json | null {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Json) : null;
}
function str(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}
function int(value: unknown): number | null {
  return typeof value === "number" && Number.isInteger(value) ? value : null;
}
/** Stripe fields that hold an id, or the expanded object carrying it. */
function idOf(value: unknown): string | null {
  return str(value) ?? str(obj(value)?.id);
}

function currencyOf(object: Json): string {
  const currency = normalizeCurrency(str(object.currency) ?? "");
  if (!currency) throw new StripePayloadError(`${str(object.object) ?? "object"} ${str(object.id) ?? ""}: ${unknownCurrencyMessage(str(object.currency) ?? "")}`);
  return currency;
}

export class StripePayloadError extends Error {}

/** What Stripe credited in the balance currency: an expanded balance transaction of a charge, or of a payment intent's latest charge. */
export function settlementOf(chargeOrIntent: unknown): IncomingPayment["settlement"] {
  const charge = obj(chargeOrIntent)?.object === "payment_intent" ? obj(obj(chargeOrIntent)?.latest_charge) : obj(chargeOrIntent);
  const bt = obj(charge?.balance_transaction);
  const currency = normalizeCurrency(str(bt?.currency) ?? "");
  const amount = int(bt?.amount);
  return bt && currency && amount !== null ? { currency, amount } : null;
}

const SUBSCRIPTION_FIRST = new Set(["subscription_create"]);
const SUBSCRIPTION_LATER = new Set(["subscription_cycle", "subscription_update", "subscription_threshold", "subscription"]);

export function stripeEventToOps(event: StripeEventLike): AdapterResult {
  const object = obj(event.data?.object);
  if (!object) return { ignored: "the event carries no object" };
  const at = event.created * 1000;
  switch (event.type) {
    case "checkout.session.completed":
    case "checkout.session.async_payment_succeeded":
      return checkoutSession(object, at);
    case "invoice.paid":
    case "invoice.payment_succeeded":
      return invoice(object, at);
    case "invoice_payment.paid": {
      const invoiceId = idOf(object.invoice);
      const paymentIntentId = idOf(obj(object.payment)?.payment_intent);
      if (!invoiceId || !paymentIntentId) return { ignored: "the invoice payment is not a payment intent" };
      return { ops: [{ op: "invoice_payment", provider: "stripe", invoiceId, paymentIntentId }] };
    }
    case "payment_intent.succeeded":
      return paymentIntent(object, at);
    case "charge.refunded":
      return chargeRefunded(object, at);
    case "charge.dispute.created":
    case "charge.dispute.closed":
      return dispute(object, at, event.type === "charge.dispute.closed");
    case "customer.subscription.updated":
    case "customer.subscription.deleted":
      return subscriptionEnded(object, at, event.type === "customer.subscription.deleted");
    default:
      return { ignored: `Bantico does not use ${event.type} events` };
  }
}

function checkoutSession(session: Json, at: number): AdapterResult {
  const metadata = mergeMetadata(flattenMetadata(session.metadata), clientReference(session));
  const email = normalizeEmail(obj(session.customer_details)?.email) ?? normalizeEmail(session.customer_email);
  const sessionId = str(session.id)!;
  if (session.mode === "subscription") {
    const subscriptionId = idOf(session.subscription);
    if (!subscriptionId) return { ignored: "subscription checkout without a subscription" };
    // The money comes with the subscription's invoices; the session only adds its metadata.
    return { ops: [{ op: "checkout_context", provider: "stripe", subscriptionId, sessionId, metadata, email }] };
  }
  if (session.mode !== "payment") return { ignored: `checkout in ${String(session.mode)} mode moves no money` };
  if (session.payment_status !== "paid") return { ignored: `checkout payment is ${String(session.payment_status)}; waiting for async_payment_succeeded` };
  const paymentIntentId = idOf(session.payment_intent);
  const amount = int(session.amount_total) ?? 0;
  return {
    ops: [
      payment({
        kind: "sale",
        key: paymentIntentId ? `pi:${paymentIntentId}` : `cs:${sessionId}`,
        paymentIntentId,
        checkoutSessionId: sessionId,
        settlement: settlementOf(session.payment_intent),
        customerId: idOf(session.customer),
        email,
        amount,
        tax: int(obj(session.total_details)?.amount_tax) ?? 0,
        currency: currencyOf(session),
        metadata,
        description: `Stripe Checkout ${sessionId}`,
        occurredAt: at,
      }),
    ],
  };
}

function clientReference(object: Json): Record<string, string> {
  const reference = str(object.client_reference_id);
  return reference ? { client_reference_id: reference } : {};
}

function invoice(inv: Json, at: number): AdapterResult {
  const amount = int(inv.amount_paid) ?? 0;
  if (amount <= 0) return { ignored: "the invoice paid nothing (trial or fully discounted)" };
  const id = str(inv.id)!;
  const parentDetails = obj(obj(inv.parent)?.subscription_details);
  const legacyDetails = obj(inv.subscription_details);
  const subscriptionId = idOf(parentDetails?.subscription) ?? idOf(inv.subscription);
  const reason = str(inv.billing_reason) ?? "";
  const kind: PaymentKind = subscriptionId && SUBSCRIPTION_LATER.has(reason) ? "renewal" : "sale";
  const totalTaxes = Array.isArray(inv.total_taxes) ? (inv.total_taxes as unknown[]).reduce<number>((sum, t) => sum + (int(obj(t)?.amount) ?? 0), 0) : null;
  const firstPayment = obj((obj(inv.payments)?.data as unknown[] | undefined)?.[0])?.payment;
  const paymentIntentId = idOf(inv.payment_intent) ?? idOf(obj(firstPayment)?.payment_intent);
  return {
    ops: [
      payment({
        kind,
        key: `in:${id}`,
        orderId: id,
        paymentIntentId,
        chargeId: idOf(inv.charge),
        subscriptionId,
        customerId: idOf(inv.customer),
        email: normalizeEmail(inv.customer_email),
        amount,
        tax: int(inv.tax) ?? totalTaxes ?? 0,
        currency: currencyOf(inv),
        metadata: mergeMetadata(flattenMetadata(parentDetails?.metadata), flattenMetadata(legacyDetails?.metadata), flattenMetadata(inv.metadata)),
        description: `Stripe invoice ${str(inv.number) ?? id}${reason ? ` (${reason})` : ""}`,
        occurredAt: (int(obj(inv.status_transitions)?.paid_at) ?? at / 1000) * 1000,
        parent: subscriptionId && !SUBSCRIPTION_FIRST.has(reason) ? { subscriptionId } : null,
        subscription: subscriptionId ? invoiceTerms(inv) : null,
      }),
    ],
  };
}

const INTERVALS = new Set<SubscriptionInterval>(["day", "week", "month", "year"]);

/** The billing interval and period an invoice pays: its first recurring (not proration) line's price and period. */
function invoiceTerms(inv: Json): SubscriptionTerms | null {
  const lines = (obj(inv.lines)?.data as unknown[] | undefined) ?? [];
  for (const item of lines.map(obj)) {
    if (!item || item.proration === true) continue;
    const recurring = obj(obj(item.price)?.recurring) ?? obj(item.plan) ?? obj(obj(obj(item.pricing)?.price_details)?.recurring);
    const period = obj(item.period);
    const start = int(period?.start);
    const end = int(period?.end);
    const interval = str(recurring?.interval) as SubscriptionInterval | null;
    if (!interval || !INTERVALS.has(interval)) continue;
    return {
      interval,
      intervalCount: int(recurring?.interval_count) ?? 1,
      ...(start !== null && end !== null && end > start ? { periodStart: start * 1000, periodEnd: end * 1000 } : {}),
    };
  }
  return null;
}

/** A subscription deleted (or updated to canceled): its MRR ends when it ended. */
function subscriptionEnded(subscription: Json, at: number, deleted: boolean): AdapterResult {
  const id = str(subscription.id);
  if (!id) return { ignored: "the subscription has no id" };
  if (!deleted && subscription.status !== "canceled" && subscription.status !== "incomplete_expired") return { ignored: `subscription ${id} is ${String(subscription.status)}; its renewals tell MRR the rest` };
  const endedAt = int(subscription.ended_at) ?? int(subscription.canceled_at);
  return { ops: [{ op: "subscription_cancel", provider: "stripe", subscriptionId: id, at: endedAt !== null ? endedAt * 1000 : at }] };
}

function paymentIntent(intent: Json, at: number): AdapterResult {
  if (idOf(intent.invoice)) return { ignored: "the payment intent pays an invoice, which is counted from invoice.paid" };
  const description = str(intent.description) ?? "";
  if (/^Subscription (creation|update|cycle)/.test(description)) return { ignored: "the payment intent pays a subscription invoice, counted from invoice.paid" };
  const id = str(intent.id)!;
  return {
    ops: [
      payment({
        kind: "sale",
        key: `pi:${id}`,
        paymentIntentId: id,
        chargeId: idOf(intent.latest_charge),
        settlement: settlementOf(intent),
        customerId: idOf(intent.customer),
        email: normalizeEmail(intent.receipt_email),
        amount: int(intent.amount_received) ?? int(intent.amount) ?? 0,
        tax: 0,
        currency: currencyOf(intent),
        metadata: flattenMetadata(intent.metadata),
        description: description ? `Stripe payment ${id}: ${description}` : `Stripe payment ${id}`,
        occurredAt: at,
      }),
    ],
  };
}

function chargeRefunded(charge: Json, at: number): AdapterResult {
  const total = int(charge.amount_refunded) ?? 0;
  if (total <= 0) return { ignored: "nothing refunded" };
  const id = str(charge.id)!;
  const paymentIntentId = idOf(charge.payment_intent);
  return {
    ops: [
      payment({
        kind: "refund",
        key: `refund:${id}:${total}`,
        paymentIntentId,
        chargeId: id,
        customerId: idOf(charge.customer),
        email: normalizeEmail(obj(charge.billing_details)?.email) ?? normalizeEmail(charge.receipt_email),
        amount: -total,
        tax: null,
        currency: currencyOf(charge),
        metadata: flattenMetadata(charge.metadata),
        description: `Stripe refund of charge ${id}${charge.refunded === true ? " (full)" : " (partial)"}`,
        occurredAt: at,
        parent: { paymentIntentId, chargeId: id, orderId: idOf(charge.invoice) },
        cumulativeRefund: { scope: id, total, totalTax: null },
      }),
    ],
  };
}

function dispute(d: Json, at: number, closed: boolean): AdapterResult {
  const status = str(d.status) ?? "";
  if (status.startsWith("warning_")) return { ignored: "an inquiry moves no money" };
  const id = str(d.id)!;
  const amount = int(d.amount) ?? 0;
  const paymentIntentId = idOf(d.payment_intent);
  const chargeId = idOf(d.charge);
  const base = {
    paymentIntentId,
    chargeId,
    currency: currencyOf(d),
    metadata: flattenMetadata(d.metadata),
    occurredAt: (int(d.created) ?? at / 1000) * 1000,
    parent: { paymentIntentId, chargeId },
  };
  const ops: LedgerOp[] = [payment({ ...base, kind: "dispute", key: `dispute:${id}`, amount: -amount, tax: null, description: `Stripe dispute ${id} on charge ${chargeId ?? "?"}` })];
  if (closed && status === "won") {
    ops.push(payment({ ...base, kind: "dispute", key: `dispute:${id}:won`, amount, tax: null, occurredAt: at, description: `Stripe dispute ${id} won: funds reinstated` }));
  }
  return { ops };
}

const payment = (fields: PaymentFields): LedgerOp => paymentOp("stripe", fields);
