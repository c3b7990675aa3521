// Test support for payments: provider payloads of the documented shapes, signed with the providers'
// own schemes, journeys seeded into the 002 tables, and a fake provider API on loopback.
import { createHmac } from "node:crypto";
import { expect } from "bun:test";
import Stripe from "stripe";
import type { AppContext } from "../context.ts";
import type { Storage } from "../db/storage/storage.ts";
import { attributionOn } from "../reports/attribution.ts";
import { reportDb } from "../reports/source.ts";
import { startTestServer } from "../testing/harness.ts";
import { loadPayments, type PaymentFilters } from "./service.ts";

const stripe = new Stripe("sk_test_signing_only");

let counter = 0;
export function uid(prefix: string): string {
  counter += 1;
  return `${prefix}_${Date.now().toString(36)}${counter.toString(36)}`;
}

export function stripeEvent(type: string, object: Record<string, unknown>, options: { id?: string; created?: number } = {}) {
  return {
    id: options.id ?? uid("evt"),
    object: "event",
    api_version: "2026-10-28.endive",
    created: options.created ?? Math.floor(Date.now() / 1000),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    data: { object },
  };
}

export async function sendStripe(baseUrl: string, projectId: string, event: unknown, secret: string, options: { timestamp?: number; body?: string } = {}) {
  const payload = options.body ?? JSON.stringify(event);
  const signature = await stripe.webhooks.generateTestHeaderStringAsync({ payload, secret, timestamp: options.timestamp });
  return fetch(`${baseUrl}/webhooks/stripe/${projectId}`, { method: "POST", headers: { "content-type": "application/json", "stripe-signature": signature }, body: payload });
}

/** Standard Webhooks: base64 HMAC-SHA256 of "id.timestamp.body" (neither the Polar nor the Dodo SDK is here to sign). */
export function standardWebhookHeaders(body: string, key: string | Buffer, options: { id?: string; timestamp?: number } = {}): Record<string, string> {
  const id = options.id ?? uid("msg");
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const signature = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64");
  return { "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": `v1,${signature}` };
}

/** Polar keys its Standard Webhooks HMAC with the secret's own bytes. */
export function polarHeaders(body: string, secret: string, options: { id?: string; timestamp?: number } = {}): Record<string, string> {
  return standardWebhookHeaders(body, secret, options);
}

/** Dodo's whsec_ secret is base64: the HMAC key is its decoded bytes. */
export function dodoHeaders(body: string, secret: string, options: { id?: string; timestamp?: number } = {}): Record<string, string> {
  return standardWebhookHeaders(body, Buffer.from(secret.replace(/^whsec_/, ""), "base64"), options);
}

/** Lemon Squeezy (X-Signature) and Creem (creem-signature): hex HMAC-SHA256 of the raw body. */
export function bodySignature(body: string, secret: string): string {
  return createHmac("sha256", secret).update(body).digest("hex");
}

/** Paddle-Signature: ts=…;h1=hex HMAC of "ts:body"; more h1 entries as during a secret rotation. */
export function paddleSignature(body: string, secrets: string[], timestamp = Math.floor(Date.now() / 1000)): string {
  return [`ts=${timestamp}`, ...secrets.map((secret) => `h1=${createHmac("sha256", secret).update(`${timestamp}:${body}`).digest("hex")}`)].join(";");
}

/** POSTs a body exactly as given to /webhooks/{provider}/{projectId}. */
export function sendWebhook(baseUrl: string, provider: string, projectId: string, body: string, headers: Record<string, string>) {
  return fetch(`${baseUrl}/webhooks/${provider}/${projectId}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
}

export async function sendPolar(baseUrl: string, projectId: string, event: unknown, secret: string, options: { id?: string; timestamp?: number } = {}) {
  const body = JSON.stringify(event);
  return fetch(`${baseUrl}/webhooks/polar/${projectId}`, { method: "POST", headers: { "content-type": "application/json", ...polarHeaders(body, secret, options) }, body });
}

export function checkoutSession(fields: Record<string, unknown> = {}) {
  const id = uid("cs_test");
  return {
    id,
    object: "checkout.session",
    mode: "payment",
    status: "complete",
    payment_status: "paid",
    amount_subtotal: 4900,
    amount_total: 4900,
    currency: "usd",
    customer: uid("cus"),
    customer_email: null,
    customer_details: { email: "buyer@example.com", name: "Buyer" },
    client_reference_id: null,
    metadata: {},
    payment_intent: uid("pi"),
    subscription: null,
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    created: Math.floor(Date.now() / 1000) - 60,
    ...fields,
  };
}

export function invoice(fields: Record<string, unknown> & { subscription?: string; billing_reason?: string; metadata?: Record<string, string> }) {
  const { subscription, metadata, ...rest } = fields;
  return {
    id: uid("in"),
    object: "invoice",
    status: "paid",
    amount_due: 2900,
    amount_paid: 2900,
    amount_remaining: 0,
    currency: "usd",
    customer: "cus_sub",
    customer_email: "subscriber@example.com",
    billing_reason: "subscription_create",
    metadata: {},
    parent: subscription
      ? { type: "subscription_details", quote_details: null, subscription_details: { subscription, metadata: metadata ?? {} } }
      : null,
    total_taxes: [],
    status_transitions: { paid_at: Math.floor(Date.now() / 1000) },
    ...rest,
  };
}

export function charge(fields: Record<string, unknown> = {}) {
  return {
    id: uid("ch"),
    object: "charge",
    amount: 4900,
    amount_captured: 4900,
    amount_refunded: 0,
    refunded: false,
    currency: "usd",
    customer: null,
    payment_intent: null,
    billing_details: { email: "buyer@example.com" },
    metadata: {},
    ...fields,
  };
}

export function polarOrder(fields: Record<string, unknown> = {}) {
  const now = new Date().toISOString();
  return {
    id: crypto.randomUUID(),
    created_at: now,
    modified_at: now,
    status: "paid",
    paid: true,
    subtotal_amount: 2000,
    discount_amount: 0,
    net_amount: 2000,
    tax_amount: 400,
    total_amount: 2400,
    applied_balance_amount: 0,
    due_amount: 0,
    refunded_amount: 0,
    refunded_tax_amount: 0,
    currency: "eur",
    billing_reason: "purchase",
    billing_name: null,
    billing_address: null,
    invoice_number: null,
    is_invoice_generated: false,
    receipt_number: null,
    units: null,
    customer_id: crypto.randomUUID(),
    product_id: crypto.randomUUID(),
    discount_id: null,
    subscription_id: null,
    checkout_id: crypto.randomUUID(),
    metadata: {},
    platform_fee_amount: 0,
    platform_fee_currency: null,
    customer: { id: crypto.randomUUID(), email: "polar.buyer@example.com", email_verified: true, name: null, metadata: {} },
    product: null,
    discount: null,
    subscription: null,
    items: [],
    description: "Pro plan",
    refundable_amount: 2400,
    refundable_tax_amount: 400,
    ...fields,
  };
}

export interface SeedLink {
  id: string;
  campaignId?: string | null;
  source?: string | null;
  medium?: string | null;
  content?: string | null;
  leadId?: string | null;
  title?: string;
}

export async function seedLink(storage: Storage, projectId: string, link: SeedLink): Promise<void> {
  await storage.run(
    `INSERT INTO links (id, project_id, slug, destination_url, campaign_id, source, medium, content, lead_id, title, created_at, updated_at)
     VALUES (?, ?, ?, 'https://example.com/', ?, ?, ?, ?, ?, ?, ?, ?)`,
    [link.id, projectId, uid("slug"), link.campaignId ?? null, link.source ?? null, link.medium ?? null, link.content ?? null, link.leadId ?? null, link.title ?? "", 0, 0],
  );
}

export async function seedSession(
  storage: Storage,
  projectId: string,
  session: { id?: string; visitorId: string; startedAt: number; linkId?: string | null; campaignId?: string | null; source?: string | null; medium?: string | null; content?: string | null; leadId?: string | null },
): Promise<string> {
  const id = session.id ?? uid("ses");
  await storage.run(
    `INSERT INTO sessions (id, project_id, visitor_id, started_at, last_seen_at, link_id, campaign_id, source, medium, content, lead_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
    id,
    projectId,
    session.visitorId,
    session.startedAt,
    session.startedAt,
    session.linkId ?? null,
    session.campaignId ?? null,
    session.source ?? null,
    session.medium ?? null,
    session.content ?? null,
    session.leadId ?? null,
    ],
  );
  return id;
}

export async function seedProfile(storage: Storage, projectId: string, profile: { id: string; email: string; visitorIds: string[] }): Promise<void> {
  await storage.run("INSERT INTO profiles (project_id, id, email, created_at, updated_at) VALUES (?, ?, ?, 0, 0)", [projectId, profile.id, profile.email.trim().toLowerCase()]);
  for (const visitorId of profile.visitorIds) {
    await storage.run("INSERT INTO profile_visitors (project_id, visitor_id, profile_id, identified_at) VALUES (?, ?, ?, 0)", [projectId, visitorId, profile.id]);
  }
}

export async function countRows(storage: Storage, table: string, projectId: string): Promise<number> {
  return (await storage.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table} WHERE project_id = ?`, [projectId]))!.n;
}

/** A provider API double on loopback: each request is logged and answered by `handle`. */
export function fakeProviderApi(handle: (request: Request, url: URL) => Response | Promise<Response>) {
  const requests: { method: string; path: string; query: URLSearchParams; authorization: string | null }[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      const url = new URL(request.url);
      requests.push({ method: request.method, path: url.pathname, query: url.searchParams, authorization: request.headers.get("authorization") });
      return handle(request, url);
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, requests, stop: () => server.stop(true) };
}

/** The invariant every ledger change must keep: the report's money, per currency and model, is exactly the ledger's. */
export async function expectReportMatchesLedger(ctx: Pick<AppContext, "storage" | "db" | "reportNotes">, projectId: string): Promise<void> {
  const ledger = new Map<string, { revenue: number; refunds: number }>();
  const rows = await ctx.storage.all<{ kind: string; net: number; currency: string }>("SELECT kind, net, currency FROM payments WHERE project_id = ?", [projectId]);
  for (const p of rows) {
    const sums = ledger.get(p.currency) ?? { revenue: 0, refunds: 0 };
    if (p.kind === "sale" || p.kind === "renewal") sums.revenue += p.net;
    else sums.refunds -= p.net;
    ledger.set(p.currency, sums);
  }
  for (const model of ["last", "first"] as const) {
    const report = new Map<string, { revenue: number; refunds: number }>();
    const query = { groupBy: "campaign", from: 0, to: Date.now() + 86_400_000, model } as const;
    for (const row of await attributionOn(reportDb(ctx), { id: projectId, currency: "USD", timezone: "UTC" }, query, Date.now())) {
      for (const m of row.byCurrency) {
        const sums = report.get(m.currency) ?? { revenue: 0, refunds: 0 };
        sums.revenue += m.revenue;
        sums.refunds += m.refunds;
        if (sums.revenue !== 0 || sums.refunds !== 0) report.set(m.currency, sums);
      }
    }
    expect(report).toEqual(ledger);
  }
}

/** A Dodo Payment as `payment.succeeded` carries it (SDK types; PROVIDERS.md §2.2). */
export function dodoPayment(fields: Record<string, unknown> = {}) {
  return {
    payload_type: "Payment",
    payment_id: uid("pay"),
    business_id: "bus_test",
    status: "succeeded",
    total_amount: 2999,
    tax: 499,
    currency: "EUR",
    settlement_amount: 3210,
    settlement_currency: "USD",
    settlement_tax: 534,
    customer: { customer_id: "cus_dodo", email: "dodo.buyer@example.com", name: "Dodo Buyer" },
    metadata: {},
    subscription_id: null,
    subscription_ids: [],
    is_multi_subscription: false,
    checkout_session_id: uid("cks"),
    payment_provider: "dodo",
    refunds: [],
    disputes: [],
    created_at: new Date().toISOString(),
    ...fields,
  };
}

export function dodoEvent(type: string, data: unknown) {
  return { business_id: "bus_test", type, timestamp: new Date().toISOString(), data };
}

/** A Lemon Squeezy webhook: meta with the checkout's custom data, and a JSON:API object. */
export function lemonEvent(eventName: string, data: { type: string; id: string; attributes: Record<string, unknown> }, customData?: Record<string, string>) {
  return { meta: { event_name: eventName, test_mode: false, ...(customData ? { custom_data: customData } : {}) }, data: { ...data, relationships: {} } };
}

export function lemonOrder(fields: Record<string, unknown> = {}, id = String(Math.floor(Math.random() * 1e9))) {
  const now = new Date().toISOString();
  return {
    type: "orders",
    id,
    attributes: {
      store_id: 1,
      customer_id: 77,
      identifier: crypto.randomUUID(),
      order_number: Number(id) % 100000,
      user_name: "Lemon Buyer",
      user_email: "lemon.buyer@example.com",
      currency: "EUR",
      currency_rate: "1.0850",
      subtotal: 999,
      discount_total: 0,
      tax: 200,
      total: 1199,
      total_usd: 1301,
      tax_usd: 217,
      tax_inclusive: false,
      status: "paid",
      refunded: false,
      refunded_at: null,
      refunded_amount: 0,
      refunded_amount_usd: 0,
      created_at: now,
      updated_at: now,
      test_mode: false,
      ...fields,
    },
  };
}

export function lemonInvoice(fields: Record<string, unknown> & { subscription_id: number | string; billing_reason: string }, id = String(Math.floor(Math.random() * 1e9))) {
  const now = new Date().toISOString();
  return {
    type: "subscription-invoices",
    id,
    attributes: {
      store_id: 1,
      customer_id: 77,
      user_name: "Lemon Buyer",
      user_email: "lemon.buyer@example.com",
      currency: "EUR",
      currency_rate: "1.0850",
      status: "paid",
      refunded: false,
      refunded_amount: 0,
      subtotal: 999,
      discount_total: 0,
      tax: 200,
      total: 1199,
      total_usd: 1301,
      created_at: now,
      updated_at: now,
      test_mode: false,
      ...fields,
    },
  };
}

/** A completed Paddle transaction: string amounts, custom_data, no customer email (PROVIDERS.md §4.2). */
export function paddleTransaction(fields: Record<string, unknown> = {}) {
  const now = new Date().toISOString();
  return {
    id: uid("txn"),
    status: "completed",
    origin: "web",
    subscription_id: null,
    customer_id: "ctm_paddle",
    currency_code: "EUR",
    custom_data: null,
    billed_at: now,
    created_at: now,
    updated_at: now,
    details: {
      totals: { subtotal: "1000", discount: "0", tax: "190", total: "1190", grand_total: "1190", fee: "85", earnings: "905", currency_code: "EUR" },
      payout_totals: { subtotal: "1085", tax: "206", total: "1291", fee: "103", earnings: "982", currency_code: "USD", exchange_rate: "1.0850", fee_rate: "0.05" },
    },
    items: [],
    payments: [],
    ...fields,
  };
}

export function paddleEvent(type: string, data: unknown, eventId = uid("evt")) {
  return { event_id: eventId, event_type: type, occurred_at: new Date().toISOString(), notification_id: uid("ntf"), data };
}

export function paddleAdjustment(fields: Record<string, unknown> & { transaction_id: string }) {
  const now = new Date().toISOString();
  return {
    id: uid("adj"),
    action: "refund",
    type: "partial",
    status: "approved",
    subscription_id: null,
    customer_id: "ctm_paddle",
    currency_code: "EUR",
    reason: "requested",
    totals: { subtotal: "500", tax: "95", total: "595", fee: "0", earnings: "0", currency_code: "EUR" },
    created_at: now,
    updated_at: now,
    ...fields,
  };
}

/** Creem's envelope: { id, eventType, created_at (ms), object }. */
export function creemEvent(eventType: string, object: unknown, id = uid("evt")) {
  return { id, eventType, created_at: Date.now(), object };
}

export function creemCheckout(fields: { metadata?: Record<string, string>; subscription?: unknown; order?: Record<string, unknown> } = {}) {
  const transaction = uid("tran");
  return {
    id: uid("ch"),
    object: "checkout",
    request_id: uid("req"),
    status: "completed",
    metadata: fields.metadata ?? {},
    order: { id: uid("ord"), amount: 1000, tax_amount: 210, amount_paid: 1210, currency: "EUR", type: "onetime", status: "paid", transaction, created_at: new Date().toISOString(), ...fields.order },
    customer: { id: "cust_creem", email: "creem.buyer@example.com" },
    product: { id: "prod_creem", price: 1000, currency: "EUR" },
    subscription: fields.subscription ?? null,
  };
}

/** The real server with one provider's webhook secret saved and one link seeded; `payments` reads the ledger. */
export async function providerTestServer(provider: string, webhookSecret: string, link: SeedLink) {
  const server = await startTestServer();
  expect((await server.api(`/api/v1/integrations/${provider}`, { method: "PUT", json: { webhookSecret } })).status).toBe(200);
  await seedLink(server.instance.ctx.storage, server.project.id, link);
  const payments = async (filters: PaymentFilters = {}) => (await loadPayments(server.instance.ctx.storage, server.project.id, { limit: 1000, ...filters })).payments;
  return { server, payments };
}

/** A Stripe balance transaction: `amount` in the balance `currency`; `exchange_rate` per minor unit, as Stripe gives it. */
export function balanceTransaction(fields: { amount: number; currency: string; exchange_rate?: number | null; fee?: number }) {
  return { id: uid("txn"), object: "balance_transaction", fee: 0, net: fields.amount - (fields.fee ?? 0), exchange_rate: null, type: "charge", ...fields };
}

/**
 * The Stripe API as settlement lookups see it: no events to pull, and each payment intent with
 * its latest charge's balance transaction expanded (only when asked to expand it, as Stripe does).
 */
export function fakeStripeSettlements(apiKey: string, settlements: Map<string, ReturnType<typeof balanceTransaction>>) {
  return fakeProviderApi((request, url) => {
    if (!(request.headers.get("authorization") ?? "").includes(apiKey)) return Response.json({ error: { type: "invalid_request_error", message: "Invalid API Key provided" } }, { status: 401 });
    if (url.pathname === "/v1/events") return Response.json({ object: "list", url: "/v1/events", has_more: false, data: [] });
    const intent = /^\/v1\/payment_intents\/([\w-]+)$/.exec(url.pathname)?.[1];
    const bt = intent ? settlements.get(intent) : undefined;
    if (!intent || !bt) return Response.json({ error: { type: "invalid_request_error", message: "No such payment_intent" } }, { status: 404 });
    const expanded = url.searchParams.getAll("expand[]").includes("latest_charge.balance_transaction") || url.searchParams.getAll("expand[0]").includes("latest_charge.balance_transaction");
    return Response.json({ id: intent, object: "payment_intent", status: "succeeded", latest_charge: { id: uid("ch"), object: "charge", balance_transaction: expanded ? bt : bt.id } });
  });
}
