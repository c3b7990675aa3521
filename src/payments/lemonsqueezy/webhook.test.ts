// Lemon Squeezy end to end: X-Signature (hex HMAC of the body, no timestamp), the first subscription
// payment counted once although two money events announce it, renewals, cumulative refunds, and a
// backfilled order attributed by email, saying so, until its webhook brings the custom data.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eventually, type TestServer } from "../../testing/harness.ts";
import { bodySignature, countRows, expectReportMatchesLedger, fakeProviderApi, lemonEvent, lemonInvoice, lemonOrder, providerTestServer, seedProfile, seedSession, sendWebhook, uid } from "../testing.ts";
import { setProviderEndpoints } from "../endpoints.ts";

const SECRET = "lemon-signing-secret";
let server: TestServer;
let payments: Awaited<ReturnType<typeof providerTestServer>>["payments"];

beforeAll(async () => {
  ({ server, payments } = await providerTestServer("lemonsqueezy", SECRET, { id: "lnk_lemon", campaignId: "lemon_launch", source: "producthunt" }));
});
afterAll(() => server.close());
function send(event: unknown, secret = SECRET) {
  const body = JSON.stringify(event);
  return sendWebhook(server.url, "lemonsqueezy", server.project.id, body, { "x-signature": bodySignature(body, secret), "x-event-name": (event as { meta: { event_name: string } }).meta.event_name });
}

describe("Lemon Squeezy webhooks", () => {
  test("order_created is a sale credited to the link in meta.custom_data, net of tax", async () => {
    const order = lemonOrder();
    expect((await send(lemonEvent("order_created", order, { bantico_link_id: "lnk_lemon" }))).status).toBe(200);
    const entry = (await payments()).find((p) => p.providerIds.orderId === order.id)!;
    expect(entry).toMatchObject({ provider: "lemonsqueezy", kind: "sale", amount: 1199, tax: 200, net: 999, currency: "EUR", email: "lemon.buyer@example.com" });
    expect(entry.attribution).toMatchObject({ method: "metadata_link", linkId: "lnk_lemon", campaignId: "lemon_launch" });
  });

  test("a retried delivery (no event id in Lemon Squeezy) is counted once", async () => {
    const event = lemonEvent("order_created", lemonOrder(), { campaign_id: "lemon_retry" });
    for (let i = 0; i < 4; i++) expect((await send(event)).status).toBe(200);
    expect((await payments()).filter((p) => p.attribution.campaignId === "lemon_retry")).toHaveLength(1);
  });

  test("a subscription's first charge counts once, and renewals are credited to the first order's link", async () => {
    const subscriptionId = String(Math.floor(Math.random() * 1e9));
    const order = lemonOrder();
    const custom = { bantico_link_id: "lnk_lemon" };
    await send(lemonEvent("order_created", order, custom));
    await send(lemonEvent("subscription_created", { type: "subscriptions", id: subscriptionId, attributes: { order_id: Number(order.id), status: "active", user_email: "lemon.buyer@example.com" } }, custom));
    await send(lemonEvent("subscription_payment_success", lemonInvoice({ subscription_id: Number(subscriptionId), billing_reason: "initial" }), custom));
    await send(lemonEvent("subscription_payment_success", lemonInvoice({ subscription_id: Number(subscriptionId), billing_reason: "renewal" })));
    await send(lemonEvent("subscription_payment_success", lemonInvoice({ subscription_id: Number(subscriptionId), billing_reason: "renewal" })));
    const entries = (await payments()).filter((p) => p.providerIds.subscriptionId === subscriptionId);
    expect(entries.map((e) => e.kind).sort()).toEqual(["renewal", "renewal", "sale"]);
    expect(entries.find((e) => e.kind === "sale")!.providerIds.orderId).toBe(order.id);
    expect(entries.every((e) => e.attribution.linkId === "lnk_lemon")).toBe(true);
  });

  test("order_refunded's cumulative refunded_amount nets the sale in steps", async () => {
    const order = lemonOrder();
    await send(lemonEvent("order_created", order, { bantico_link_id: "lnk_lemon" }));
    const refunded = (amount: number, status: string) => ({ ...order, attributes: { ...order.attributes, status, refunded: status === "refunded", refunded_amount: amount } });
    await send(lemonEvent("order_refunded", refunded(599, "partial_refund"), { bantico_link_id: "lnk_lemon" }));
    await send(lemonEvent("order_refunded", refunded(599, "partial_refund"), { bantico_link_id: "lnk_lemon" }));
    await send(lemonEvent("order_refunded", refunded(1199, "refunded"), { bantico_link_id: "lnk_lemon" }));
    const entries = (await payments()).filter((p) => p.providerIds.orderId === order.id);
    expect(entries.filter((e) => e.kind === "refund").map((e) => e.amount).sort((a, b) => a - b)).toEqual([-600, -599]);
    expect(entries.reduce((sum, e) => sum + e.net, 0)).toBe(0);
    await expectReportMatchesLedger(server.instance.ctx, server.project.id);
  });

  test("the tracker's checkout[custom][bantico_visitor] attributes the order by session", async () => {
    const visitorId = uid("vis");
    await seedSession(server.storage, server.project.id, { visitorId, startedAt: Date.now() - 60_000, source: "reddit", campaignId: "lemon_nocode" });
    const order = lemonOrder();
    await send(lemonEvent("order_created", order, { bantico_visitor: visitorId }));
    expect((await payments()).find((p) => p.providerIds.orderId === order.id)!.attribution).toMatchObject({ method: "session", source: "reddit", campaignId: "lemon_nocode" });
  });

  test("a forged or missing X-Signature answers 400 and stores nothing", async () => {
    const before = await countRows(server.storage, "payments", server.project.id);
    const event = lemonEvent("order_created", lemonOrder(), { source: "forged" });
    const forged = await send(event, "not-the-secret");
    expect(forged.status).toBe(400);
    expect((await forged.json()).error.code).toBe("invalid_signature");
    const unsigned = await sendWebhook(server.url, "lemonsqueezy", server.project.id, JSON.stringify(event), {});
    expect((await unsigned.json()).error.code).toBe("missing_signature");
    expect(await countRows(server.storage, "payments", server.project.id)).toBe(before);
  });
});

describe("connecting Lemon Squeezy with an API key", () => {
  test("a backfilled order is attributed by email and says why; its webhook then adds the custom data to the same payment", async () => {
    const KEY = "lemon_api_key_0001";
    const email = "backfilled@example.com";
    const visitorId = uid("vis");
    await seedSession(server.storage, server.project.id, { visitorId, startedAt: Date.now() - 3 * 86_400_000, source: "podcast" });
    await seedProfile(server.storage, server.project.id, { id: uid("usr"), email, visitorIds: [visitorId] });
    const order = lemonOrder({ user_email: email, created_at: new Date(Date.now() - 2 * 86_400_000).toISOString() });
    const old = lemonOrder({ created_at: new Date(Date.now() - 45 * 86_400_000).toISOString() });
    const api = fakeProviderApi((request, url) => {
      if (request.headers.get("authorization") !== `Bearer ${KEY}`) return Response.json({ errors: [{ status: "401", title: "Unauthorized" }] }, { status: 401 });
      if (url.pathname === "/v1/orders") return Response.json({ data: url.searchParams.get("page[number]") === "1" ? [order, old] : [], links: {} });
      return Response.json({ data: [], links: {} });
    });
    try {
      setProviderEndpoints(server.instance.ctx, { lemonsqueezy: api.url });
      const wrong = await server.api("/api/v1/integrations/lemonsqueezy", { method: "PUT", json: { apiKey: "wrong" } });
      expect((await wrong.json()).error.code).toBe("invalid_credential");
      expect((await server.api("/api/v1/integrations/lemonsqueezy", { method: "PUT", json: { apiKey: KEY } })).status).toBe(200);
      const pulled = await eventually(async () => (await payments()).find((p) => p.providerIds.orderId === order.id), "the backfilled order");
      expect(pulled.attribution).toMatchObject({ method: "identify_email", source: "podcast" });
      expect(pulled.attribution.explanation).toContain("does not return checkout custom data");
      // Older than the 30-day backfill: not pulled.
      expect((await payments()).find((p) => p.providerIds.orderId === old.id)).toBeUndefined();

      await send(lemonEvent("order_created", order, { bantico_link_id: "lnk_lemon" }));
      const after = (await payments()).filter((p) => p.providerIds.orderId === order.id);
      expect(after).toHaveLength(1);
      expect(after[0]!.attribution).toMatchObject({ method: "metadata_link", linkId: "lnk_lemon" });
      expect(after[0]!.attribution.explanation).not.toContain("does not return checkout custom data");
    } finally {
      api.stop();
    }
  });
});
