// Paddle Billing end to end: Paddle-Signature checked against every h1 with minutes (not Paddle's
// SDK's 5 s) of clock skew, transaction.completed as the payment, refunds only once approved,
// chargebacks, and the API root telling a sandbox key or a missing permission on connect.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eventually, type TestServer } from "../../testing/harness.ts";
import { countRows, expectReportMatchesLedger, fakeProviderApi, paddleAdjustment, paddleEvent, paddleSignature, paddleTransaction, providerTestServer, sendWebhook, uid } from "../testing.ts";
import { setProviderEndpoints } from "../endpoints.ts";

const SECRET = "pdl_ntfset_01test_signing_secret";
let server: TestServer;
let payments: Awaited<ReturnType<typeof providerTestServer>>["payments"];

beforeAll(async () => {
  ({ server, payments } = await providerTestServer("paddle", SECRET, { id: "lnk_paddle", campaignId: "paddle_launch", source: "hn" }));
});
afterAll(() => server.close());
function send(event: unknown, options: { secrets?: string[]; timestamp?: number } = {}) {
  const body = JSON.stringify(event);
  return sendWebhook(server.url, "paddle", server.project.id, body, { "paddle-signature": paddleSignature(body, options.secrets ?? [SECRET], options.timestamp) });
}

describe("Paddle webhooks", () => {
  test("transaction.completed is a sale net of tax, credited to the link in custom_data (no email arrives with it)", async () => {
    const transaction = paddleTransaction({ custom_data: { bantico_link_id: "lnk_paddle" } });
    expect((await send(paddleEvent("transaction.completed", transaction))).status).toBe(200);
    const entry = (await payments()).find((p) => p.providerIds.orderId === transaction.id)!;
    expect(entry).toMatchObject({ provider: "paddle", kind: "sale", amount: 1190, tax: 190, net: 1000, currency: "EUR", email: null });
    expect(entry.attribution).toMatchObject({ method: "metadata_link", linkId: "lnk_paddle" });
  });

  test("the same event retried, and another event for the same transaction, count once; transaction.paid is not counted", async () => {
    const transaction = paddleTransaction({ custom_data: { campaign_id: "paddle_retry" } });
    const event = paddleEvent("transaction.completed", transaction);
    for (let i = 0; i < 10; i++) expect((await send(event)).status).toBe(200);
    await send(paddleEvent("transaction.completed", transaction));
    await send(paddleEvent("transaction.paid", { ...transaction, status: "paid" }));
    expect((await payments()).filter((p) => p.attribution.campaignId === "paddle_retry")).toHaveLength(1);
  });

  test("renewals (origin subscription_recurring) are credited to the first transaction's link", async () => {
    const subscription = uid("sub");
    await send(paddleEvent("transaction.completed", paddleTransaction({ subscription_id: subscription, custom_data: { bantico_link_id: "lnk_paddle" } })));
    for (let i = 0; i < 2; i++) await send(paddleEvent("transaction.completed", paddleTransaction({ subscription_id: subscription, origin: "subscription_recurring" })));
    const entries = (await payments()).filter((p) => p.providerIds.subscriptionId === subscription);
    expect(entries.map((e) => e.kind).sort()).toEqual(["renewal", "renewal", "sale"]);
    expect(entries.every((e) => e.attribution.linkId === "lnk_paddle")).toBe(true);
  });

  test("a refund counts only once approved, with its own tax; a chargeback is a dispute", async () => {
    const transaction = paddleTransaction({ custom_data: { bantico_link_id: "lnk_paddle" } });
    await send(paddleEvent("transaction.completed", transaction));
    const refund = paddleAdjustment({ transaction_id: transaction.id, status: "pending_approval" });
    await send(paddleEvent("adjustment.created", refund));
    expect((await payments({ kind: "refund" })).filter((p) => p.providerIds.orderId === transaction.id)).toHaveLength(0);
    await send(paddleEvent("adjustment.updated", { ...refund, status: "approved" }));
    await send(paddleEvent("adjustment.updated", { ...refund, status: "approved" }));
    const rejected = paddleAdjustment({ transaction_id: transaction.id, status: "rejected" });
    await send(paddleEvent("adjustment.updated", rejected));
    expect((await payments({ kind: "refund" })).filter((p) => p.providerIds.orderId === transaction.id)).toMatchObject([{ amount: -595, tax: -95, net: -500 }]);
    await send(paddleEvent("adjustment.created", paddleAdjustment({ transaction_id: transaction.id, action: "chargeback", type: "full", totals: { subtotal: "1000", tax: "190", total: "1190", currency_code: "EUR" } })));
    const disputes = (await payments({ kind: "dispute" })).filter((p) => p.providerIds.orderId === transaction.id);
    expect(disputes).toMatchObject([{ amount: -1190, net: -1000 }]);
    expect(disputes[0]!.attribution.linkId).toBe("lnk_paddle");
    await expectReportMatchesLedger(server.instance.ctx, server.project.id);
  });

  test("every h1 is checked (secret rotation) and two minutes of clock skew pass; a forged or 10-minute-old signature stores nothing", async () => {
    const rotated = paddleTransaction({ custom_data: { source: "rotated" } });
    expect((await send(paddleEvent("transaction.completed", rotated), { secrets: [SECRET, "pdl_ntfset_old_secret"] })).status).toBe(200);
    const rotatedFirst = paddleTransaction({ custom_data: { source: "rotated_first" } });
    expect((await send(paddleEvent("transaction.completed", rotatedFirst), { secrets: ["pdl_ntfset_old_secret", SECRET] })).status).toBe(200);
    const skewed = paddleTransaction({ custom_data: { source: "skewed" } });
    expect((await send(paddleEvent("transaction.completed", skewed), { timestamp: Math.floor(Date.now() / 1000) - 120 })).status).toBe(200);

    const before = await countRows(server.storage, "payments", server.project.id);
    const event = paddleEvent("transaction.completed", paddleTransaction({ custom_data: { source: "forged" } }));
    const forged = await send(event, { secrets: ["pdl_ntfset_wrong"] });
    expect(forged.status).toBe(400);
    expect((await forged.json()).error.code).toBe("invalid_signature");
    const stale = await send(event, { timestamp: Math.floor(Date.now() / 1000) - 600 });
    expect((await stale.json()).error.code).toBe("stale_timestamp");
    expect(await countRows(server.storage, "payments", server.project.id)).toBe(before);
  });
});

describe("connecting Paddle with an API key", () => {
  test("a sandbox key and a key without a permission are refused by name; a live key pulls with customers' emails, and the webhook of the same transaction counts once", async () => {
    const LIVE = "pdl_live_apikey_01good";
    const NARROW = "pdl_live_apikey_01narrow";
    const backfilled = paddleTransaction({ custom_data: { bantico_link_id: "lnk_paddle" }, created_at: new Date(Date.now() - 3 * 86_400_000).toISOString() });
    const refund = paddleAdjustment({ transaction_id: backfilled.id });
    const api = fakeProviderApi((request, url) => {
      const key = request.headers.get("authorization")?.replace("Bearer ", "");
      if (key !== LIVE && key !== NARROW) return Response.json({ error: { type: "request_error", code: "invalid_token", detail: "…" } }, { status: 403 });
      if (url.pathname === "/") {
        const permissions = key === LIVE ? ["transaction.read", "adjustment.read", "customer.read"] : ["transaction.read"];
        return Response.json({ data: { api: { environment: "production" }, caller: { auth_type: "api_key", account: { id: "acc_1" }, permissions } } });
      }
      if (url.pathname === "/transactions") {
        if (url.searchParams.get("after")) return Response.json({ data: [], meta: { pagination: { has_more: false } } });
        return Response.json({ data: [backfilled], meta: { pagination: { has_more: true, next: `https://api.paddle.com/transactions?after=${backfilled.id}` } } });
      }
      if (url.pathname === "/customers/ctm_paddle") return Response.json({ data: { id: "ctm_paddle", email: "Paddle.Buyer@example.com" } });
      if (url.pathname === "/adjustments") return Response.json({ data: [refund], meta: { pagination: { has_more: false } } });
      return Response.json({ error: { code: "not_found" } }, { status: 404 });
    });
    try {
      setProviderEndpoints(server.instance.ctx, { paddle: api.url });
      const sandbox = await server.api("/api/v1/integrations/paddle", { method: "PUT", json: { apiKey: "pdl_sdbx_apikey_01abc" } });
      expect((await sandbox.json()).error).toMatchObject({ code: "sandbox_credential", message: expect.stringContaining("sandbox") });
      const narrow = await server.api("/api/v1/integrations/paddle", { method: "PUT", json: { apiKey: NARROW } });
      expect((await narrow.json()).error).toMatchObject({ code: "missing_permission", message: expect.stringContaining("adjustment.read") });
      const invalid = await server.api("/api/v1/integrations/paddle", { method: "PUT", json: { apiKey: "pdl_live_apikey_revoked" } });
      expect((await invalid.json()).error.code).toBe("invalid_credential");
      expect((await server.api("/api/v1/integrations/paddle", { method: "PUT", json: { apiKey: LIVE } })).status).toBe(200);
      const entries = await eventually(async () => {
        const pulled = (await payments()).filter((p) => p.providerIds.orderId === backfilled.id);
        return pulled.length === 2 ? pulled : null;
      }, "the pulled transaction and its refund");
      expect(entries.map((e) => e.kind).sort()).toEqual(["refund", "sale"]);
      // Paddle sends no email with a transaction: the key's customer.read fills it in, for pull and webhook alike.
      expect(entries.find((e) => e.kind === "sale")!.email).toBe("paddle.buyer@example.com");
      const live = paddleTransaction({ custom_data: null });
      await send(paddleEvent("transaction.completed", live));
      expect((await payments()).find((p) => p.providerIds.orderId === live.id)!.email).toBe("paddle.buyer@example.com");
      await send(paddleEvent("transaction.completed", backfilled));
      await send(paddleEvent("adjustment.updated", refund));
      expect((await payments()).filter((p) => p.providerIds.orderId === backfilled.id)).toHaveLength(2);
      expect(api.requests.some((r) => r.path === "/transactions" && r.query.get("after") === backfilled.id)).toBe(true);
    } finally {
      api.stop();
    }
  });
});
