// Polar webhooks end to end: Standard Webhooks signatures, order.paid and order.refunded.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestServer } from "../../testing/harness.ts";
import { countRows, expectReportMatchesLedger, polarHeaders, polarOrder, providerTestServer, sendPolar, uid } from "../testing.ts";

const SECRET = "polar_whs_test_secret_value";
let server: TestServer;
let payments: Awaited<ReturnType<typeof providerTestServer>>["payments"];

beforeAll(async () => {
  ({ server, payments } = await providerTestServer("polar", SECRET, { id: "lnk_polar", campaignId: "polar_launch", source: "x" }));
});
afterAll(() => server.close());

const send = (event: unknown, options?: Parameters<typeof sendPolar>[4]) => sendPolar(server.url, server.project.id, event, SECRET, options);
const event = (type: string, data: unknown) => ({ type, timestamp: new Date().toISOString(), api_version: "2026-10", data });

describe("Polar webhooks", () => {
  test("order.paid is recorded net of tax and credited to the link in the order's metadata", async () => {
    const order = polarOrder({ metadata: { linkId: "lnk_polar", medium: "social" } });
    expect((await send(event("order.paid", order))).status).toBe(200);
    const [entry] = (await payments()).filter((p) => p.providerIds.orderId === order.id);
    expect(entry).toMatchObject({ kind: "sale", amount: 2400, tax: 400, net: 2000, currency: "EUR", email: "polar.buyer@example.com" });
    expect(entry!.attribution).toMatchObject({ method: "metadata_link", linkId: "lnk_polar", campaignId: "polar_launch", medium: "social" });
  });

  test("a retried Polar delivery is counted once", async () => {
    const order = polarOrder({ metadata: { campaign_id: "polar_retry" } });
    const id = uid("msg");
    for (let i = 0; i < 10; i++) expect((await send(event("order.paid", order), { id })).status).toBe(200);
    // A new delivery id for the same order (say, re-sent from the dashboard) is still the same order.
    await send(event("order.paid", order));
    expect((await payments()).filter((p) => p.attribution.campaignId === "polar_retry")).toHaveLength(1);
  });

  test("subscription renewals inherit the first order's attribution", async () => {
    const subscription = crypto.randomUUID();
    await send(event("order.paid", polarOrder({ subscription_id: subscription, billing_reason: "subscription_create", metadata: { linkId: "lnk_polar" } })));
    for (let i = 0; i < 3; i++) await send(event("order.paid", polarOrder({ subscription_id: subscription, billing_reason: "subscription_cycle", metadata: {} })));
    const entries = (await payments()).filter((p) => p.providerIds.subscriptionId === subscription);
    expect(entries).toHaveLength(4);
    expect(entries.filter((e) => e.kind === "renewal")).toHaveLength(3);
    expect(entries.every((e) => e.attribution.linkId === "lnk_polar")).toBe(true);
  });

  test("a partial then a full refund reduce the sale's link, tax included in the steps", async () => {
    const order = polarOrder({ metadata: { linkId: "lnk_polar" } });
    await send(event("order.paid", order));
    await send(event("order.refunded", { ...order, status: "partially_refunded", refunded_amount: 1200, refunded_tax_amount: 200 }));
    await send(event("order.refunded", { ...order, status: "refunded", refunded_amount: 2400, refunded_tax_amount: 400 }));
    const refunds = (await payments({ kind: "refund" })).filter((p) => p.providerIds.orderId === order.id);
    expect(refunds.map((r) => [r.amount, r.tax, r.net])).toEqual([
      [-1200, -200, -1000],
      [-1200, -200, -1000],
    ]);
    expect(refunds.every((r) => r.attribution.linkId === "lnk_polar")).toBe(true);
  });

  test("a KWD order keeps its three-decimal amount", async () => {
    const order = polarOrder({ currency: "kwd", total_amount: 12345, tax_amount: 0, net_amount: 12345, metadata: { source: "kuwait" } });
    await send(event("order.paid", order));
    expect((await payments()).find((p) => p.attribution.source === "kuwait")).toMatchObject({ amount: 12345, net: 12345, currency: "KWD" });
  });

  test("unknown event types are acknowledged and ignored", async () => {
    const response = await send(event("benefit.created", { id: "x" }));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ received: true });
    const unknown = await send(event("something.new", { id: "x" }));
    expect(unknown.status).toBe(200);
  });

  test("a bad signature, a stale timestamp, malformed JSON or an unknown project stores nothing", async () => {
    const before = await countRows(server.storage, "payments", server.project.id);
    const paid = event("order.paid", polarOrder({ metadata: { source: "forged" } }));
    const forged = await sendPolar(server.url, server.project.id, paid, "another_secret");
    expect(forged.status).toBe(400);
    expect((await forged.json()).error.code).toBe("invalid_signature");
    const stale = await send(paid, { timestamp: Math.floor(Date.now() / 1000) - 3600 });
    expect((await stale.json()).error.code).toBe("stale_timestamp");
    const missing = await fetch(`${server.url}/webhooks/polar/${server.project.id}`, { method: "POST", body: JSON.stringify(paid) });
    expect((await missing.json()).error.code).toBe("missing_signature");
    const malformed = await fetch(`${server.url}/webhooks/polar/${server.project.id}`, { method: "POST", headers: polarHeaders("{oops", SECRET), body: "{oops" });
    expect((await malformed.json()).error.code).toBe("invalid_json");
    const unknown = await sendPolar(server.url, "prj_missing", paid, SECRET);
    expect(unknown.status).toBe(404);
    expect(await countRows(server.storage, "payments", server.project.id)).toBe(before);
  });

  test("the report adds up to exactly the ledger after all of the above", async () => {
    await expectReportMatchesLedger(server.instance.ctx, server.project.id);
  });
});
