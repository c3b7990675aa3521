// Stripe webhooks end to end: real server on the test engine, payloads signed with Stripe's own helper.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestServer } from "../../testing/harness.ts";
import { charge, checkoutSession, countRows, expectReportMatchesLedger, invoice, providerTestServer, seedSession, sendStripe, stripeEvent, uid } from "../testing.ts";
import { loadRawEventsForPayment } from "../service.ts";

const SECRET = "whsec_test_bantico_payments";
let server: TestServer;
let payments: Awaited<ReturnType<typeof providerTestServer>>["payments"];

beforeAll(async () => {
  ({ server, payments } = await providerTestServer("stripe", SECRET, { id: "lnk_launch", campaignId: "launch", source: "twitter", title: "Launch tweet" }));
});
afterAll(() => server.close());

const send = (event: unknown, options?: Parameters<typeof sendStripe>[4]) => sendStripe(server.url, server.project.id, event, SECRET, options);

describe("Stripe webhooks", () => {
  test("a one-time Checkout payment is recorded net of tax and credited to the link in its metadata", async () => {
    const session = checkoutSession({
      amount_total: 5900,
      total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 1000 },
      metadata: { linkId: "lnk_launch", content: "hero", visitorId: "" },
    });
    const response = await send(stripeEvent("checkout.session.completed", session));
    expect(response.status).toBe(200);
    const [entry] = (await payments()).filter((p) => p.providerIds.checkoutSessionId === session.id);
    expect(entry).toMatchObject({ kind: "sale", provider: "stripe", amount: 5900, tax: 1000, net: 4900, currency: "USD", email: "buyer@example.com" });
    expect(entry!.attribution).toMatchObject({ method: "metadata_link", linkId: "lnk_launch", campaignId: "launch", source: "twitter", content: "hero" });
    expect(entry!.attribution.explanation).toContain("Launch tweet");
  });

  test("a retried Stripe delivery is counted once", async () => {
    const event = stripeEvent("checkout.session.completed", checkoutSession({ metadata: { campaignId: "retry" } }));
    const statuses = [];
    for (let i = 0; i < 10; i++) statuses.push((await send(event)).status);
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect((await payments({})).filter((p) => p.attribution.campaignId === "retry")).toHaveLength(1);
    expect(await server.storage.get("SELECT COUNT(*) AS n FROM provider_events WHERE event_id = ?", [event.id])).toEqual({ n: 1 });
  });

  test("the same payment intent reported by its checkout and by payment_intent.succeeded is counted once", async () => {
    const session = checkoutSession({ metadata: { campaignId: "pi_dedupe" } });
    await send(stripeEvent("payment_intent.succeeded", { id: session.payment_intent, object: "payment_intent", amount: 4900, amount_received: 4900, currency: "usd", metadata: {}, latest_charge: uid("ch") }));
    await send(stripeEvent("checkout.session.completed", session));
    const matching = (await payments()).filter((p) => p.providerIds.paymentIntentId === session.payment_intent);
    expect(matching).toHaveLength(1);
    expect(matching[0]!.attribution).toMatchObject({ method: "metadata_context", campaignId: "pi_dedupe" });
    // Both deliveries show on the payment's page, as the provider sent them.
    const raw = await loadRawEventsForPayment(server.storage, server.project.id, matching[0]!.id);
    expect(raw.map((e) => e.type)).toEqual(["payment_intent.succeeded", "checkout.session.completed"]);
    expect(JSON.parse(raw[1]!.payload).data.object.id).toBe(session.id);
  });

  test("a visitor id passed as client_reference_id attributes by that visitor's session", async () => {
    const visitor = uid("v");
    await seedSession(server.storage, server.project.id, { visitorId: visitor, startedAt: Date.now() - 3_600_000, campaignId: "payment_link" });
    const session = checkoutSession({ client_reference_id: visitor, metadata: {} });
    await send(stripeEvent("checkout.session.completed", session));
    const entry = (await payments()).find((p) => p.providerIds.checkoutSessionId === session.id)!;
    expect(entry.attribution).toMatchObject({ method: "session", campaignId: "payment_link", visitorId: visitor });
    expect(entry.metadata).toEqual({ client_reference_id: visitor });
  });

  test("a delayed payment method counts when async_payment_succeeded arrives, not before", async () => {
    const pending = checkoutSession({ payment_status: "unpaid", metadata: { campaignId: "sepa" } });
    const first = await send(stripeEvent("checkout.session.completed", pending));
    expect(first.status).toBe(200);
    expect((await payments()).filter((p) => p.attribution.campaignId === "sepa")).toHaveLength(0);
    await send(stripeEvent("checkout.session.async_payment_succeeded", { ...pending, payment_status: "paid" }));
    expect((await payments()).filter((p) => p.attribution.campaignId === "sepa")).toHaveLength(1);
  });

  test("a subscription with three renewals is credited to the first link, the first payment counted once", async () => {
    const subscription = uid("sub");
    const customer = uid("cus");
    const session = checkoutSession({ mode: "subscription", payment_intent: null, subscription, customer, amount_total: 2900, metadata: { linkId: "lnk_launch" } });
    await send(stripeEvent("checkout.session.completed", session));
    const first = invoice({ subscription, customer, billing_reason: "subscription_create", customer_email: "sub@example.com" });
    await send(stripeEvent("invoice.paid", first));
    for (let i = 0; i < 3; i++) {
      // Older API versions put the subscription at the top level of the invoice.
      const renewal = i === 2 ? { ...invoice({ customer, billing_reason: "subscription_cycle" }), subscription } : invoice({ subscription, customer, billing_reason: "subscription_cycle" });
      await send(stripeEvent("invoice.paid", renewal));
    }
    const entries = (await payments()).filter((p) => p.providerIds.subscriptionId === subscription);
    expect(entries.map((e) => e.kind).sort()).toEqual(["renewal", "renewal", "renewal", "sale"]);
    expect(entries.every((e) => e.attribution.linkId === "lnk_launch")).toBe(true);
    expect(entries.filter((e) => e.kind === "renewal").every((e) => e.attribution.method === "customer")).toBe(true);
    expect(entries.find((e) => e.kind === "sale")!.attribution.method).toBe("metadata_link");
  });

  test("the first invoice arriving before its checkout session still ends up credited to the session's link", async () => {
    const subscription = uid("sub");
    await send(stripeEvent("invoice.paid", invoice({ subscription, billing_reason: "subscription_create" })));
    await send(stripeEvent("invoice.paid", invoice({ subscription, billing_reason: "subscription_cycle" })));
    expect((await payments()).filter((p) => p.providerIds.subscriptionId === subscription).every((p) => p.attribution.method === "unattributed")).toBe(true);
    await send(stripeEvent("checkout.session.completed", checkoutSession({ mode: "subscription", payment_intent: null, subscription, metadata: { linkId: "lnk_launch" } })));
    const entries = (await payments()).filter((p) => p.providerIds.subscriptionId === subscription);
    expect(entries).toHaveLength(2);
    expect(entries.map((e) => [e.kind, e.attribution.method, e.attribution.linkId]).sort()).toEqual([
      ["renewal", "customer", "lnk_launch"],
      ["sale", "metadata_link", "lnk_launch"],
    ]);
  });

  test("the subscription snapshot on the invoice is read when the checkout session never arrives", async () => {
    const subscription = uid("sub");
    await send(stripeEvent("invoice.paid", invoice({ subscription, metadata: { bantico_link_id: "lnk_launch" } })));
    const [entry] = (await payments()).filter((p) => p.providerIds.subscriptionId === subscription);
    expect(entry!.attribution.method).toBe("metadata_link");
  });

  test("a partial then a full refund are recorded as two negative steps against the sale's link", async () => {
    const session = checkoutSession({ amount_total: 10000, metadata: { linkId: "lnk_launch" } });
    await send(stripeEvent("checkout.session.completed", session));
    const ch = charge({ amount: 10000, payment_intent: session.payment_intent });
    await send(stripeEvent("charge.refunded", { ...ch, amount_refunded: 3000 }));
    const full = stripeEvent("charge.refunded", { ...ch, amount_refunded: 10000, refunded: true });
    await send(full);
    await send(full);
    const refunds = (await payments({ kind: "refund" })).filter((p) => p.providerIds.chargeId === ch.id);
    expect(refunds.map((r) => r.amount).sort((a, b) => a - b)).toEqual([-7000, -3000]);
    expect(refunds.every((r) => r.attribution.linkId === "lnk_launch" && r.attribution.method === "customer")).toBe(true);
  });

  test("a refund delivered before its sale is still taken off the sale's link", async () => {
    const session = checkoutSession({ amount_total: 3000, metadata: { linkId: "lnk_launch" } });
    const ch = charge({ amount: 3000, payment_intent: session.payment_intent, amount_refunded: 3000, refunded: true });
    await send(stripeEvent("charge.refunded", ch));
    await send(stripeEvent("checkout.session.completed", session));
    const [refund] = (await payments({ kind: "refund" })).filter((p) => p.providerIds.chargeId === ch.id);
    expect(refund).toMatchObject({ amount: -3000, attribution: { method: "customer", linkId: "lnk_launch" } });
    expect(refund!.parentPaymentId).toBe((await payments()).find((p) => p.providerIds.checkoutSessionId === session.id)!.id);
  });

  test("a dispute is a negative entry, and a won dispute puts the money back", async () => {
    const session = checkoutSession({ amount_total: 2000, metadata: { campaignId: "disputed" } });
    await send(stripeEvent("checkout.session.completed", session));
    const dispute = { id: uid("dp"), object: "dispute", amount: 2000, currency: "usd", charge: uid("ch"), payment_intent: session.payment_intent, status: "needs_response", created: Math.floor(Date.now() / 1000) };
    await send(stripeEvent("charge.dispute.created", dispute));
    await send(stripeEvent("charge.dispute.closed", { ...dispute, status: "won" }));
    const entries = (await payments({ kind: "dispute" })).filter((p) => p.providerIds.paymentIntentId === session.payment_intent);
    expect(entries.map((e) => e.amount).sort((a, b) => a - b)).toEqual([-2000, 2000]);
    expect(entries.every((e) => e.attribution.campaignId === "disputed")).toBe(true);
  });

  test("a payment intent counted on its own before invoice_payment.paid names its invoice is counted once", async () => {
    const subscription = uid("sub");
    const intent = uid("pi");
    // API 2025-03-31+: the payment intent does not name its invoice, and its description does not say so either.
    await send(stripeEvent("payment_intent.succeeded", { id: intent, object: "payment_intent", amount: 2900, amount_received: 2900, currency: "usd", metadata: {} }));
    const paid = invoice({ subscription, billing_reason: "subscription_create", metadata: { campaignId: "invoice_link" } });
    await send(stripeEvent("invoice.paid", paid));
    await send(stripeEvent("invoice_payment.paid", { id: uid("inpay"), object: "invoice_payment", invoice: paid.id, payment: { type: "payment_intent", payment_intent: intent } }));
    const matching = (await payments()).filter((p) => p.providerIds.paymentIntentId === intent || p.providerIds.orderId === paid.id);
    expect(matching).toHaveLength(1);
    expect(matching[0]).toMatchObject({ kind: "sale", providerIds: { orderId: paid.id, paymentIntentId: intent }, attribution: { campaignId: "invoice_link" } });
  });

  test("a subscription that starts with a free trial is credited from its first paid invoice", async () => {
    const subscription = uid("sub");
    await send(stripeEvent("checkout.session.completed", checkoutSession({ mode: "subscription", payment_intent: null, subscription, metadata: { campaignId: "trial" } })));
    await send(stripeEvent("invoice.paid", invoice({ subscription, billing_reason: "subscription_create", amount_paid: 0, amount_due: 0 })));
    await send(stripeEvent("invoice.paid", invoice({ subscription, billing_reason: "subscription_cycle" })));
    await send(stripeEvent("invoice.paid", invoice({ subscription, billing_reason: "subscription_cycle" })));
    const entries = (await payments()).filter((p) => p.providerIds.subscriptionId === subscription);
    expect(entries).toHaveLength(2);
    expect(entries.every((e) => e.attribution.campaignId === "trial")).toBe(true);
  });

  test("a JPY payment keeps its zero-decimal amount", async () => {
    const session = checkoutSession({ amount_total: 1500, currency: "jpy", metadata: { campaignId: "japan" } });
    await send(stripeEvent("checkout.session.completed", session));
    const [entry] = (await payments()).filter((p) => p.attribution.campaignId === "japan");
    expect(entry).toMatchObject({ amount: 1500, currency: "JPY" });
  });

  test("a payment in a made-up currency or beyond 10^12 minor units is refused with 400 and stores nothing", async () => {
    const before = await countRows(server.storage, "payments", server.project.id);
    const madeUp = await send(stripeEvent("checkout.session.completed", checkoutSession({ currency: "zzz" })));
    expect(madeUp.status).toBe(400);
    expect((await madeUp.json()).error.message).toContain('"zzz"');
    const huge = await send(stripeEvent("checkout.session.completed", checkoutSession({ amount_total: 2 ** 53 - 1 })));
    expect(huge.status).toBe(400);
    expect((await huge.json()).error.message).toContain("beyond the limit");
    expect(await countRows(server.storage, "payments", server.project.id)).toBe(before);
  });

  test("a direct PaymentIntent counts; one paying a subscription invoice does not", async () => {
    await send(stripeEvent("payment_intent.succeeded", { id: uid("pi"), object: "payment_intent", amount: 700, amount_received: 700, currency: "eur", metadata: { source: "direct_api" }, receipt_email: "d@example.com" }));
    await send(stripeEvent("payment_intent.succeeded", { id: uid("pi"), object: "payment_intent", amount: 2900, amount_received: 2900, currency: "usd", description: "Subscription creation", metadata: { source: "sub_pi" } }));
    expect((await payments()).filter((p) => p.attribution.source === "direct_api")).toHaveLength(1);
    expect((await payments()).filter((p) => p.attribution.source === "sub_pi")).toHaveLength(0);
  });

  test("an event type Bantico does not use is acknowledged and ignored", async () => {
    const before = await countRows(server.storage, "provider_events", server.project.id);
    const response = await send(stripeEvent("customer.created", { id: uid("cus"), object: "customer" }));
    expect(response.status).toBe(200);
    expect((await response.json()).ignored).toContain("customer.created");
    expect(await countRows(server.storage, "provider_events", server.project.id)).toBe(before);
  });

  test("a wrong or missing signature, a stale timestamp, malformed JSON or an unknown project stores nothing", async () => {
    const before = await countRows(server.storage, "payments", server.project.id);
    const event = stripeEvent("checkout.session.completed", checkoutSession({ metadata: { campaignId: "forged" } }));
    const wrong = await sendStripe(server.url, server.project.id, event, "whsec_someone_else");
    expect(wrong.status).toBe(400);
    expect((await wrong.json()).error.code).toBe("invalid_signature");
    const stale = await send(event, { timestamp: Math.floor(Date.now() / 1000) - 3600 });
    expect((await stale.json()).error.code).toBe("stale_timestamp");
    const missing = await fetch(`${server.url}/webhooks/stripe/${server.project.id}`, { method: "POST", body: JSON.stringify(event) });
    expect((await missing.json()).error.code).toBe("missing_signature");
    const malformed = await send(null, { body: "{not json" });
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).error.code).toBe("invalid_json");
    const unknown = await sendStripe(server.url, "prj_nobody", event, SECRET);
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.code).toBe("unknown_project");
    expect(await countRows(server.storage, "payments", server.project.id)).toBe(before);
    expect((await payments()).filter((p) => p.attribution.campaignId === "forged")).toHaveLength(0);
  });

  test("after every kind of delivery above, the report adds up to exactly the ledger, per currency and for both models", async () => {
    await expectReportMatchesLedger(server.instance.ctx, server.project.id);
  });
});
