// Turns Lemon Squeezy webhooks and API objects (JSON:API) into ledger operations. A subscription's
// first charge sends order_created and an "initial" subscription_payment_success: the order counts,
// the invoice does not. Custom data arrives only in webhooks (meta.custom_data), never from the API.
import { flattenMetadata, normalizeEmail } from "../metadata.ts";
import { normalizeCurrency } from "../money.ts";
import { int, obj, PayloadError, str, time, type Json } from "../native.ts";
import { paymentOp, type AdapterResult, type IncomingPayment, type LedgerOp, type PaymentFields } from "../types.ts";

export const LEMONSQUEEZY_EVENT_TYPES = ["order_created", "order_refunded", "subscription_created", "subscription_payment_success", "subscription_payment_refunded"] as const;

/** Why a backfilled order is attributed by email only; dropped once its webhook brings the custom data. */
export const BACKFILL_NOTE =
  "Backfilled from Lemon Squeezy's API, which does not return checkout custom data: attributed by the customer's email only until the order's webhook brings it.";

export function lemonSqueezyEventToOps(event: Json): AdapterResult {
  const meta = obj(event.meta);
  const name = str(meta?.event_name) ?? "";
  const data = obj(event.data);
  if (!data || !str(data.id)) throw new PayloadError("the event carries no data object");
  const custom = flattenMetadata(meta?.custom_data);
  switch (name) {
    case "order_created":
    case "order_refunded":
      return lemonSqueezyOrderToOps(data, custom);
    case "subscription_created": {
      const orderId = str(obj(data.attributes)?.order_id);
      if (!orderId) return { ignored: "the subscription names no order" };
      return { ops: [{ op: "subscription_order", provider: "lemonsqueezy", subscriptionId: str(data.id)!, orderId }] };
    }
    case "subscription_payment_success":
    case "subscription_payment_refunded":
      return lemonSqueezyInvoiceToOps(data, custom);
    default:
      return { ignored: `Bantico does not use ${name || "untyped"} events` };
  }
}

const payment = (fields: PaymentFields): LedgerOp => paymentOp("lemonsqueezy", fields);

function common(a: Json, what: string) {
  const currency = normalizeCurrency(str(a.currency) ?? "");
  if (!currency) throw new PayloadError(`${what} has no valid currency`);
  const occurredAt = time(a.created_at);
  if (occurredAt === null) throw new PayloadError(`${what} has no valid created_at`);
  return { currency, occurredAt, customerId: str(a.customer_id), email: normalizeEmail(a.user_email) };
}

/** A cumulative refunded_amount becomes the refund step since the last one recorded. */
function refundOps(a: Json, scope: string, base: ReturnType<typeof common>, parent: IncomingPayment["parent"], orderId: string | null, description: string): LedgerOp[] {
  const total = int(a.refunded_amount) ?? 0;
  if (total <= 0) return [];
  return [
    payment({
      ...base,
      kind: "refund",
      key: `refund:${scope}:${total}`,
      orderId,
      amount: -total,
      tax: null,
      description,
      occurredAt: time(a.refunded_at) ?? time(a.updated_at) ?? base.occurredAt,
      parent,
      cumulativeRefund: { scope, total, totalTax: null },
    }),
  ];
}

/** `custom` is null for an order read from the API (pull): then the explanation says why only the email can attribute it. */
export function lemonSqueezyOrderToOps(order: Json, custom: Record<string, string> | null): AdapterResult {
  const id = str(order.id)!;
  const a = obj(order.attributes) ?? {};
  const total = int(a.total) ?? 0;
  if (a.status === "pending" || a.status === "failed") return { ignored: `order ${id} is ${String(a.status)}` };
  if (total <= 0) return { ignored: `order ${id} charged nothing` };
  const base = common(a, `order ${id}`);
  const sale = payment({
    ...base,
    kind: "sale",
    key: `order:${id}`,
    orderId: id,
    amount: total,
    tax: int(a.tax) ?? 0,
    metadata: custom ?? {},
    attributionNote: custom === null ? BACKFILL_NOTE : null,
    description: `Lemon Squeezy order ${str(a.order_number) ?? id}`,
  });
  const refundDescription = `Lemon Squeezy refund of order ${str(a.order_number) ?? id}${a.status === "refunded" ? " (full)" : " (partial)"}`;
  return { ops: [sale, ...refundOps(a, `order:${id}`, base, { orderId: id }, id, refundDescription)] };
}

export function lemonSqueezyInvoiceToOps(invoice: Json, custom: Record<string, string> | null): AdapterResult {
  const id = str(invoice.id)!;
  const a = obj(invoice.attributes) ?? {};
  const subscriptionId = str(a.subscription_id);
  if (!subscriptionId) throw new PayloadError(`subscription invoice ${id} names no subscription`);
  if (a.billing_reason === "initial") return { ignored: `the first payment of subscription ${subscriptionId} is counted from its order` };
  if (a.status === "pending" || a.status === "void") return { ignored: `subscription invoice ${id} is ${String(a.status)}` };
  const total = int(a.total) ?? 0;
  if (total <= 0) return { ignored: `subscription invoice ${id} charged nothing` };
  const base = common(a, `subscription invoice ${id}`);
  const parent = { subscriptionId };
  const renewal = payment({
    ...base,
    kind: "renewal",
    key: `invoice:${id}`,
    orderId: `invoice:${id}`,
    subscriptionId,
    amount: total,
    tax: int(a.tax) ?? 0,
    metadata: custom ?? {},
    description: `Lemon Squeezy subscription ${subscriptionId} payment (${str(a.billing_reason) ?? "renewal"})`,
    parent,
  });
  return { ops: [renewal, ...refundOps(a, `invoice:${id}`, base, { orderId: `invoice:${id}`, subscriptionId }, `invoice:${id}`, `Lemon Squeezy refund of subscription ${subscriptionId}'s invoice ${id}`)] };
}
