// Dodo Payments end to end: Standard Webhooks signatures (whsec_ base64 key), payments, subscription
// renewals, refunds, disputes, the key check against both modes, and pull + webhook counted once.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eventually, type TestServer } from "../../testing/harness.ts";
import { countRows, dodoEvent, dodoHeaders, dodoPayment, expectReportMatchesLedger, fakeProviderApi, providerTestServer, sendWebhook, uid } from "../testing.ts";
import { setProviderEndpoints } from "../endpoints.ts";

const SECRET = `whsec_${Buffer.from("dodo-test-signing-key-32-bytes!!").toString("base64")}`;
let server: TestServer;
let payments: Awaited<ReturnType<typeof providerTestServer>>["payments"];

beforeAll(async () => {
  ({ server, payments } = await providerTestServer("dodo", SECRET, { id: "lnk_dodo", campaignId: "dodo_launch", source: "newsletter" }));
});
afterAll(() => server.close());
function send(event: unknown, options: { id?: string; timestamp?: number; secret?: string } = {}) {
  const body = JSON.stringify(event);
  return sendWebhook(server.url, "dodo", server.project.id, body, dodoHeaders(body, options.secret ?? SECRET, options));
}

describe("Dodo Payments webhooks", () => {
  test("payment.succeeded is recorded net of tax and credited to the link in data.metadata", async () => {
    const payment = dodoPayment({ metadata: { linkId: "lnk_dodo", medium: "email" } });
    const response = await send(dodoEvent("payment.succeeded", payment));
    expect(response.status).toBe(200);
    const entry = (await payments()).find((p) => p.providerIds.orderId === payment.payment_id)!;
    expect(entry).toMatchObject({ provider: "dodo", kind: "sale", amount: 2999, tax: 499, net: 2500, currency: "EUR", email: "dodo.buyer@example.com" });
    expect(entry.attribution).toMatchObject({ method: "metadata_link", linkId: "lnk_dodo", campaignId: "dodo_launch", medium: "email" });
  });

  test("a delivery retried 10 times, and the same payment under another delivery id, count once", async () => {
    const event = dodoEvent("payment.succeeded", dodoPayment({ metadata: { campaign_id: "dodo_retry" } }));
    const id = uid("msg");
    for (let i = 0; i < 10; i++) expect((await send(event, { id })).status).toBe(200);
    expect((await send(event)).status).toBe(200);
    expect((await payments()).filter((p) => p.attribution.campaignId === "dodo_retry")).toHaveLength(1);
  });

  test("a subscription's later payments are renewals credited to the first payment's link", async () => {
    const subscription = uid("sub");
    await send(dodoEvent("payment.succeeded", dodoPayment({ subscription_id: subscription, metadata: { linkId: "lnk_dodo" } })));
    for (let i = 0; i < 2; i++) await send(dodoEvent("payment.succeeded", dodoPayment({ subscription_id: subscription, checkout_session_id: null, metadata: {} })));
    const entries = (await payments()).filter((p) => p.providerIds.subscriptionId === subscription);
    expect(entries.map((e) => e.kind).sort()).toEqual(["renewal", "renewal", "sale"]);
    expect(entries.every((e) => e.attribution.linkId === "lnk_dodo")).toBe(true);
    expect(entries.filter((e) => e.kind === "renewal").every((e) => e.attribution.method === "customer")).toBe(true);
  });

  test("a partial and then the rest refunded net out the sale, tax in proportion; a retried payload listing them adds nothing", async () => {
    const payment = dodoPayment({ metadata: { linkId: "lnk_dodo" }, total_amount: 2000, tax: 400 });
    await send(dodoEvent("payment.succeeded", payment));
    const refunds = [
      { refund_id: uid("ref"), payment_id: payment.payment_id, amount: 500, currency: "EUR", is_partial: true, status: "succeeded", metadata: {}, created_at: new Date().toISOString() },
      { refund_id: uid("ref"), payment_id: payment.payment_id, amount: 1500, currency: "EUR", is_partial: false, status: "succeeded", metadata: {}, created_at: new Date().toISOString() },
    ];
    for (const refund of refunds) expect((await send(dodoEvent("refund.succeeded", { payload_type: "Refund", ...refund }))).status).toBe(200);
    // Dodo delivers the payload current at delivery: a late retry of payment.succeeded lists both refunds.
    await send(dodoEvent("payment.succeeded", { ...payment, refund_status: "full", refunds }));
    const entries = (await payments()).filter((p) => p.providerIds.orderId === payment.payment_id);
    expect(entries.filter((e) => e.kind === "refund").map((e) => [e.amount, e.tax, e.net])).toEqual(expect.arrayContaining([[-500, -100, -400], [-1500, -300, -1200]]));
    expect(entries.reduce((sum, e) => sum + e.net, 0)).toBe(0);
    expect(entries.every((e) => e.attribution.linkId === "lnk_dodo")).toBe(true);
    await expectReportMatchesLedger(server.instance.ctx, server.project.id);
  });

  test("a dispute (amount as a string) is a negative entry, and winning it reinstates the funds", async () => {
    const payment = dodoPayment({ metadata: { linkId: "lnk_dodo" } });
    await send(dodoEvent("payment.succeeded", payment));
    const dispute = { payload_type: "Dispute", dispute_id: uid("dsp"), payment_id: payment.payment_id, amount: "2999", currency: "EUR", dispute_stage: "dispute", dispute_status: "dispute_opened" };
    await send(dodoEvent("dispute.opened", dispute));
    expect((await payments({ kind: "dispute" })).filter((p) => p.providerIds.orderId === payment.payment_id).map((p) => p.amount)).toEqual([-2999]);
    await send(dodoEvent("dispute.won", { ...dispute, dispute_status: "dispute_won" }));
    const disputes = (await payments({ kind: "dispute" })).filter((p) => p.providerIds.orderId === payment.payment_id);
    expect(disputes.map((p) => p.amount).sort((a, b) => a - b)).toEqual([-2999, 2999]);
    expect(disputes.every((d) => d.attribution.linkId === "lnk_dodo")).toBe(true);
  });

  test("a forged signature, a stale timestamp, a missing header or malformed JSON answers 4xx and stores nothing", async () => {
    const before = await countRows(server.storage, "payments", server.project.id);
    const events = await countRows(server.storage, "provider_events", server.project.id);
    const event = dodoEvent("payment.succeeded", dodoPayment({ metadata: { source: "forged" } }));
    const forged = await send(event, { secret: `whsec_${Buffer.from("another key").toString("base64")}` });
    expect(forged.status).toBe(400);
    expect((await forged.json()).error.code).toBe("invalid_signature");
    const stale = await send(event, { timestamp: Math.floor(Date.now() / 1000) - 3600 });
    expect((await stale.json()).error.code).toBe("stale_timestamp");
    const unsigned = await sendWebhook(server.url, "dodo", server.project.id, JSON.stringify(event), {});
    expect((await unsigned.json()).error.code).toBe("missing_signature");
    const body = "{not json";
    const malformed = await sendWebhook(server.url, "dodo", server.project.id, body, dodoHeaders(body, SECRET));
    expect((await malformed.json()).error.code).toBe("invalid_json");
    const unknown = await sendWebhook(server.url, "dodo", "prj_nobody", JSON.stringify(event), dodoHeaders(JSON.stringify(event), SECRET));
    expect(unknown.status).toBe(404);
    expect(await countRows(server.storage, "payments", server.project.id)).toBe(before);
    expect(await countRows(server.storage, "provider_events", server.project.id)).toBe(events);
  });
});

describe("connecting Dodo Payments with an API key", () => {
  test("a test-mode key is refused as such, and a live key backfills; the same payment by webhook counts once", async () => {
    const LIVE_KEY = "dodo_live_key_0001";
    const TEST_KEY = "dodo_test_key_0001";
    const backfilled = dodoPayment({ metadata: { linkId: "lnk_dodo" }, created_at: new Date(Date.now() - 5 * 86_400_000).toISOString() });
    const { tax: _tax, refunds: _refunds, ...listItem } = backfilled;
    const authorized = (request: Request, key: string) => request.headers.get("authorization") === `Bearer ${key}`;
    const unauthorized = () => Response.json({ code: "UNAUTHORIZED", message: "You are not authorised to perform this action" }, { status: 401 });
    const live = fakeProviderApi((request, url) => {
      if (!authorized(request, LIVE_KEY)) return unauthorized();
      if (url.pathname === "/payments") return Response.json({ items: url.searchParams.get("page_number") === "0" ? [listItem] : [] });
      if (url.pathname === `/payments/${backfilled.payment_id}`) return Response.json(backfilled);
      if (url.pathname === "/refunds") return Response.json({ items: [] });
      return new Response("not found", { status: 404 });
    });
    const testMode = fakeProviderApi((request) => (authorized(request, TEST_KEY) ? Response.json({ items: [] }) : unauthorized()));
    try {
      setProviderEndpoints(server.instance.ctx, { dodo: live.url, dodoTest: testMode.url });
      const refused = await server.api("/api/v1/integrations/dodo", { method: "PUT", json: { apiKey: TEST_KEY } });
      expect(refused.status).toBe(400);
      expect((await refused.json()).error).toMatchObject({ code: "test_mode_credential", message: expect.stringContaining("test mode") });
      const wrong = await server.api("/api/v1/integrations/dodo", { method: "PUT", json: { apiKey: "nonsense" } });
      expect((await wrong.json()).error.code).toBe("invalid_credential");

      const connected = await server.api("/api/v1/integrations/dodo", { method: "PUT", json: { apiKey: LIVE_KEY } });
      expect(connected.status).toBe(200);
      await eventually(() => server.storage.get("SELECT 1 FROM integrations WHERE provider = 'dodo' AND backfill_state = 'done'", []), "the backfill");
      // The list item lacks tax: the pull read the payment by id, so revenue is net of tax.
      expect((await payments()).filter((p) => p.providerIds.orderId === backfilled.payment_id)).toMatchObject([{ kind: "sale", amount: 2999, tax: 499, net: 2500 }]);
      await send(dodoEvent("payment.succeeded", backfilled));
      expect((await payments()).filter((p) => p.providerIds.orderId === backfilled.payment_id)).toHaveLength(1);
      expect(live.requests.some((r) => r.path === "/payments" && r.query.get("created_at_gte") !== null)).toBe(true);
    } finally {
      live.stop();
      testMode.stop();
    }
  });
});
