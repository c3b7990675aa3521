// Creem end to end: creem-signature (an HMAC without timestamp, so replays are stopped by the event
// id), a subscription's first charge announced twice counted once, renewals, refunds and disputes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eventually, type TestServer } from "../../testing/harness.ts";
import { bodySignature, countRows, creemCheckout, creemEvent, expectReportMatchesLedger, fakeProviderApi, providerTestServer, sendWebhook, uid } from "../testing.ts";
import { setProviderEndpoints } from "../endpoints.ts";

const SECRET = "whsec_creem_test_secret";
let server: TestServer;
let payments: Awaited<ReturnType<typeof providerTestServer>>["payments"];

beforeAll(async () => {
  ({ server, payments } = await providerTestServer("creem", SECRET, { id: "lnk_creem", campaignId: "creem_launch", source: "x" }));
});
afterAll(() => server.close());
function send(event: unknown, secret = SECRET) {
  const body = JSON.stringify(event);
  return sendWebhook(server.url, "creem", server.project.id, body, { "creem-signature": bodySignature(body, secret) });
}

function subscriptionPaid(subscriptionId: string, transactionId: string, withAmount = true) {
  return {
    id: subscriptionId,
    object: "subscription",
    status: "active",
    last_transaction_id: transactionId,
    last_transaction_date: new Date().toISOString(),
    ...(withAmount ? { last_transaction: { id: transactionId, amount: 1000, tax_amount: 210, amount_paid: 1210, currency: "EUR", created_at: Date.now() } } : {}),
    product: { id: "prod_creem", price: 1000, currency: "EUR" },
    customer: { id: "cust_creem", email: "creem.buyer@example.com" },
    metadata: { bantico_link_id: "lnk_creem" },
  };
}

describe("Creem webhooks", () => {
  test("checkout.completed is a sale net of tax, credited to the link in its metadata", async () => {
    const checkout = creemCheckout({ metadata: { bantico_link_id: "lnk_creem" } });
    expect((await send(creemEvent("checkout.completed", checkout))).status).toBe(200);
    const entry = (await payments()).find((p) => p.providerIds.orderId === checkout.order.id)!;
    expect(entry).toMatchObject({ provider: "creem", kind: "sale", amount: 1210, tax: 210, net: 1000, currency: "EUR", email: "creem.buyer@example.com" });
    expect(entry.attribution).toMatchObject({ method: "metadata_link", linkId: "lnk_creem" });
  });

  test("a replayed delivery (same event id, same signature) is counted once", async () => {
    const event = creemEvent("checkout.completed", creemCheckout({ metadata: { campaign_id: "creem_replay" } }));
    for (let i = 0; i < 10; i++) expect((await send(event)).status).toBe(200);
    expect((await payments()).filter((p) => p.attribution.campaignId === "creem_replay")).toHaveLength(1);
    const events = await server.storage.get<{ n: number }>("SELECT COUNT(*) AS n FROM provider_events WHERE project_id = ? AND event_id = ?", [server.project.id, event.id]);
    expect(events!.n).toBe(1);
  });

  test("a subscription's first charge (checkout.completed and subscription.paid) counts once; renewals follow its link", async () => {
    const subscriptionId = uid("sub");
    const checkout = creemCheckout({ metadata: { bantico_link_id: "lnk_creem" }, subscription: { id: subscriptionId, metadata: { bantico_link_id: "lnk_creem" } }, order: { type: "recurring" } });
    // Order is not guaranteed: the subscription event first.
    await send(creemEvent("subscription.paid", subscriptionPaid(subscriptionId, checkout.order.transaction)));
    await send(creemEvent("checkout.completed", checkout));
    await send(creemEvent("subscription.paid", { ...subscriptionPaid(subscriptionId, uid("tran")), metadata: {} }));
    await send(creemEvent("subscription.paid", { ...subscriptionPaid(subscriptionId, uid("tran"), false), metadata: {} }));
    const entries = (await payments()).filter((p) => p.providerIds.subscriptionId === subscriptionId);
    expect(entries.map((e) => e.kind).sort()).toEqual(["renewal", "renewal", "sale"]);
    expect(entries.every((e) => e.attribution.linkId === "lnk_creem")).toBe(true);
  });

  test("refunds (cumulative per transaction) and a dispute reduce the sale's link", async () => {
    const checkout = creemCheckout({ metadata: { bantico_link_id: "lnk_creem" } });
    await send(creemEvent("checkout.completed", checkout));
    const transaction = { id: checkout.order.transaction, amount_paid: 1210, currency: "EUR" };
    await send(creemEvent("refund.created", { id: uid("ref"), refund_amount: 605, refund_currency: "EUR", transaction: { ...transaction, refunded_amount: 605 }, order: checkout.order, checkout: { metadata: checkout.metadata } }));
    await send(creemEvent("refund.created", { id: uid("ref"), refund_amount: 605, refund_currency: "EUR", transaction: { ...transaction, refunded_amount: 1210 }, order: checkout.order }));
    const refunds = (await payments({ kind: "refund" })).filter((p) => p.providerIds.chargeId === transaction.id);
    expect(refunds.map((r) => [r.amount, r.tax, r.net])).toEqual([
      [-605, -105, -500],
      [-605, -105, -500],
    ]);
    const disputed = creemCheckout({ metadata: { bantico_link_id: "lnk_creem" } });
    await send(creemEvent("checkout.completed", disputed));
    await send(creemEvent("dispute.created", { id: uid("disp"), amount: 1210, currency: "EUR", transaction: { id: disputed.order.transaction, status: "chargeback" }, order: disputed.order }));
    const dispute = (await payments({ kind: "dispute" })).find((p) => p.providerIds.chargeId === disputed.order.transaction)!;
    expect(dispute).toMatchObject({ amount: -1210, net: -1000 });
    expect(dispute.attribution.linkId).toBe("lnk_creem");
    await expectReportMatchesLedger(server.instance.ctx, server.project.id);
  });

  test("a forged or missing creem-signature answers 400 and stores nothing", async () => {
    const before = await countRows(server.storage, "payments", server.project.id);
    const event = creemEvent("checkout.completed", creemCheckout({ metadata: { source: "forged" } }));
    const forged = await send(event, "whsec_other");
    expect(forged.status).toBe(400);
    expect((await forged.json()).error.code).toBe("invalid_signature");
    const tampered = await sendWebhook(server.url, "creem", server.project.id, JSON.stringify({ ...event, id: uid("evt") }), { "creem-signature": bodySignature(JSON.stringify(event), SECRET) });
    expect(tampered.status).toBe(400);
    expect(await countRows(server.storage, "payments", server.project.id)).toBe(before);
  });
});

describe("connecting Creem with an API key", () => {
  test("a test-mode key is named as such; a live key pulls transactions, and the webhook of the same payment counts once", async () => {
    const LIVE = "creem_live_key_0001";
    const TEST = "creem_key_for_test_host";
    const checkout = creemCheckout({ metadata: { bantico_link_id: "lnk_creem" } });
    const pulled = { id: checkout.order.transaction, amount: 1000, amount_paid: 1210, tax_amount: 210, currency: "EUR", type: "payment", status: "paid", refunded_amount: 0, order: checkout.order.id, customer: "cust_creem", created_at: Date.now() - 86_400_000 };
    const forbidden = () => Response.json({ status: 403, error: "Forbidden", message: ["Forbidden"] }, { status: 403 });
    const live = fakeProviderApi((request, url) => {
      if (request.headers.get("x-api-key") !== LIVE) return forbidden();
      if (url.pathname === "/v1/transactions/search") return Response.json({ items: url.searchParams.get("page_size") === "1" ? [] : [pulled], pagination: { total_records: 1, total_pages: 1, current_page: 1, next_page: null, prev_page: null } });
      return forbidden();
    });
    const testHost = fakeProviderApi((request) => (request.headers.get("x-api-key") === TEST ? Response.json({ items: [], pagination: {} }) : forbidden()));
    try {
      setProviderEndpoints(server.instance.ctx, { creem: live.url, creemTest: testHost.url });
      for (const key of [TEST, "creem_test_abc"]) {
        const refused = await server.api("/api/v1/integrations/creem", { method: "PUT", json: { apiKey: key } });
        expect((await refused.json()).error).toMatchObject({ code: "test_mode_credential", message: expect.stringContaining("test mode") });
      }
      expect((await (await server.api("/api/v1/integrations/creem", { method: "PUT", json: { apiKey: "creem_revoked" } })).json()).error.code).toBe("invalid_credential");
      expect((await server.api("/api/v1/integrations/creem", { method: "PUT", json: { apiKey: LIVE } })).status).toBe(200);
      const entry = await eventually(async () => (await payments()).find((p) => p.providerIds.chargeId === pulled.id), "the pulled transaction");
      expect(entry).toMatchObject({ kind: "sale", amount: 1210, net: 1000 });
      await send(creemEvent("checkout.completed", checkout));
      const after = (await payments()).filter((p) => p.providerIds.chargeId === pulled.id);
      expect(after).toHaveLength(1);
      expect(after[0]!.attribution).toMatchObject({ method: "metadata_link", linkId: "lnk_creem" });
    } finally {
      live.stop();
      testHost.stop();
    }
  });
});
