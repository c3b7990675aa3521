// The one internal payment shape every adapter (Stripe, Polar, Dodo, Lemon Squeezy, Paddle, Creem, API) produces, and the other
// ledger operations a provider event can ask for.
export const PAYMENT_KINDS = ["sale", "renewal", "refund", "dispute"] as const;
export type PaymentKind = (typeof PAYMENT_KINDS)[number];
export const PROVIDERS = ["stripe", "polar", "api", "dodo", "lemonsqueezy", "paddle", "creem"] as const;
export type Provider = (typeof PROVIDERS)[number];

export interface IncomingPayment {
  provider: Provider;
  kind: PaymentKind;
  /** Dedupe key within the provider: the invoice, order, payment intent or transaction it is. */
  key: string;
  orderId: string | null;
  paymentIntentId: string | null;
  chargeId: string | null;
  checkoutSessionId: string | null;
  subscriptionId: string | null;
  customerId: string | null;
  email: string | null;
  /** Minor units, tax included; negative for refunds and disputes. Ignored when `cumulativeRefund` is set. */
  amount: number;
  /** Same sign as amount; null = unknown (a refund then takes the sale's tax share). */
  tax: number | null;
  currency: string;
  metadata: Record<string, string>;
  description: string;
  occurredAt: number;
  /** How a refund, dispute or renewal finds the payment it belongs to. */
  parent: { paymentIntentId?: string | null; chargeId?: string | null; orderId?: string | null; subscriptionId?: string | null } | null;
  /** Providers report refunds as a running total; the ledger records the step since the last one. */
  cumulativeRefund: { scope: string; total: number; totalTax: number | null } | null;
  /**
   * The provider does not say whether this subscription payment is the first: the ledger makes the
   * subscription's first recorded payment the sale and later ones renewals of it.
   */
  kindFromSubscription?: boolean;
  /** A sentence the explanation adds while the payment carries no Bantico metadata (why it is attributed by email only). */
  attributionNote?: string | null;
  /**
   * What the provider credited for `amount` in its balance currency (Stripe's balance transaction,
   * Paddle payout_totals, Dodo settlement_*, …): minor units of `currency`, tax included like `amount`.
   * Used as the payment's reporting value when `currency` is the reporting currency (rateSource provider).
   */
  settlement?: { currency: string; amount: number } | null;
  /** For a subscription's sale or renewal: the billing interval and, when the provider says, the period it pays. */
  subscription?: SubscriptionTerms | null;
}

export const SUBSCRIPTION_INTERVALS = ["day", "week", "month", "year"] as const;
export type SubscriptionInterval = (typeof SUBSCRIPTION_INTERVALS)[number];

export interface SubscriptionTerms {
  interval: SubscriptionInterval;
  intervalCount: number;
  /** Unix ms; default: from the payment's time, `intervalCount` calendar intervals. */
  periodStart?: number;
  periodEnd?: number;
}

export type LedgerOp =
  | { op: "payment"; payment: IncomingPayment }
  /** Stripe keeps a subscription checkout's metadata on the session only; its invoices need it. */
  | { op: "checkout_context"; provider: Provider; subscriptionId: string; sessionId: string; metadata: Record<string, string>; email: string | null }
  /** Since Stripe API 2025-03-31 only `invoice_payment.paid` says which payment intent paid an invoice. */
  | { op: "invoice_payment"; provider: Provider; invoiceId: string; paymentIntentId: string }
  /** Lemon Squeezy names a subscription's order only in subscription_created: renewals then find their first sale. */
  | { op: "subscription_order"; provider: Provider; subscriptionId: string; orderId: string }
  /** A subscription cancelled, deleted or revoked: its MRR ends at `at`. */
  | { op: "subscription_cancel"; provider: Provider; subscriptionId: string; at: number };

/** What an adapter makes of a provider event: ledger operations, or why it is ignored. */
export type AdapterResult = { ops: LedgerOp[] } | { ignored: string };

export interface ProviderEvent {
  provider: Provider;
  eventId: string;
  type: string;
  via: "webhook" | "pull";
  payload: string;
}

export function emptyPayment(provider: Provider): Omit<IncomingPayment, "kind" | "key" | "amount" | "currency" | "occurredAt"> {
  return {
    provider,
    orderId: null,
    paymentIntentId: null,
    chargeId: null,
    checkoutSessionId: null,
    subscriptionId: null,
    customerId: null,
    email: null,
    tax: null,
    metadata: {},
    description: "",
    parent: null,
    cumulativeRefund: null,
  };
}

export type PaymentFields = Partial<IncomingPayment> & Pick<IncomingPayment, "kind" | "key" | "amount" | "currency" | "occurredAt">;

/** One payment operation: the fields an adapter knows over the provider's empty payment. */
export function paymentOp(provider: Provider, fields: PaymentFields): LedgerOp {
  return { op: "payment", payment: { ...emptyPayment(provider), ...fields } };
}
