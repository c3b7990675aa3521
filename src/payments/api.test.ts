// The payments REST API: recording payments from any provider, listing them with their
// attribution, the attribution report, and re-attribution after a late identify.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../testing/harness.ts";
import { expectReportMatchesLedger, seedLink, seedProfile, seedSession, uid } from "./testing.ts";
import { reattributeForEmail } from "./service.ts";
import { EMPTY_CONTEXT } from "../tracking/attribution-context.ts";
import { bumpRollup, recordEvent } from "../tracking/events.ts";

let server: TestServer;
const DAY = 86_400_000;

beforeAll(async () => {
  server = await startTestServer();
  await seedLink(server.storage, server.project.id, { id: "lnk_api", campaignId: "api_campaign", source: "newsletter", leadId: "lead_7" });
});
afterAll(() => server.close());

const post = (json: unknown) => server.api("/api/v1/payments", { method: "POST", json });

describe("POST /api/v1/payments", () => {
  test("a payment from another provider is recorded once, whatever the retries", async () => {
    const body = { transactionId: uid("txn"), amount: 9900, currency: "usd", email: " Buyer@Example.com ", metadata: { campaignId: "paddle" } };
    const first = await post(body);
    expect(first.status).toBe(201);
    const created = await first.json();
    expect(created).toMatchObject({ provider: "api", kind: "sale", amount: 9900, currency: "USD", email: "buyer@example.com" });
    expect(created.attribution).toMatchObject({ method: "metadata_context", campaignId: "paddle" });
    for (let i = 0; i < 3; i++) {
      const again = await post(body);
      expect(again.status).toBe(200);
      expect((await again.json()).id).toBe(created.id);
    }
    const changed = await post({ ...body, amount: 100 });
    expect(changed.status).toBe(409);
    expect((await changed.json()).error.code).toBe("transaction_conflict");
  });

  test("bad input gets a clear 4xx and stores nothing", async () => {
    const before = await server.storage.get("SELECT COUNT(*) AS n FROM payments");
    const cases = [
      { amount: 100, currency: "USD" },
      { transactionId: "t1", amount: 1.5, currency: "USD" },
      { transactionId: "t1", amount: 100, currency: "dollars" },
      { transactionId: "t1", amount: -100, currency: "USD" },
      { transactionId: "t1", amount: 100, currency: "USD", kind: "gift" },
      { transactionId: "t1", amount: 100, currency: "USD", email: "not-an-email" },
      { transactionId: "t1", amount: 100, currency: "USD", timestamp: "yesterday-ish" },
    ];
    for (const body of cases) {
      const response = await post(body);
      expect(response.status).toBe(400);
      const error = (await response.json()).error;
      expect(typeof error.code).toBe("string");
      expect(error.message.length).toBeGreaterThan(0);
    }
    const broken = await server.api("/api/v1/payments", { method: "POST", body: "{", headers: { "content-type": "application/json" } });
    expect(broken.status).toBe(400);
    expect(await server.storage.get("SELECT COUNT(*) AS n FROM payments")).toEqual(before);
  });

  test("a made-up currency code is refused with 400 naming it, and nothing is stored", async () => {
    const before = await server.storage.get("SELECT COUNT(*) AS n FROM payments");
    for (const currency of ["ZZZ", "xau", "HRK"]) {
      const response = await post({ transactionId: uid("txn"), amount: 100, currency });
      expect(response.status).toBe(400);
      expect((await response.json()).error).toMatchObject({ code: "invalid_currency", message: expect.stringContaining(`"${currency}"`) });
    }
    expect(await server.storage.get("SELECT COUNT(*) AS n FROM payments")).toEqual(before);
  });

  test("a visitor id in metadata attributes by session; an email by identify_email", async () => {
    const now = Date.now();
    const visitor = uid("v");
    await seedSession(server.storage, server.project.id, { visitorId: visitor, startedAt: now - 2 * DAY, linkId: "lnk_api", campaignId: "api_campaign", source: "newsletter" });
    const bySession = await (await post({ transactionId: uid("txn"), amount: 500, currency: "EUR", metadata: { visitorId: visitor } })).json();
    expect(bySession.attribution).toMatchObject({ method: "session", linkId: "lnk_api", source: "newsletter" });

    const other = uid("v");
    await seedSession(server.storage, server.project.id, { visitorId: other, startedAt: now - DAY, source: "producthunt" });
    await seedProfile(server.storage, server.project.id, { id: uid("user"), email: "identified@example.com", visitorIds: [other] });
    const byEmail = await (await post({ transactionId: uid("txn"), amount: 500, currency: "EUR", email: "Identified@example.com" })).json();
    expect(byEmail.attribution).toMatchObject({ method: "identify_email", source: "producthunt" });
    // The payment appears in the visitor's journey.
    const journey = await server.storage.all<{ name: string; props: string }>("SELECT name, props FROM events WHERE visitor_id = ?", [other]);
    expect(journey.map((e) => e.name)).toEqual(["payment_completed"]);
    expect(JSON.parse(journey[0]!.props).paymentId).toBe(byEmail.id);
  });

  test("a payment that arrived before its customer identified is re-attributed afterwards", async () => {
    const email = `late-${uid("x")}@example.com`;
    const early = await (await post({ transactionId: uid("txn"), amount: 1200, currency: "USD", email })).json();
    expect(early.attribution.method).toBe("unattributed");
    const visitor = uid("v");
    await seedSession(server.storage, server.project.id, { visitorId: visitor, startedAt: Date.now() - 3 * DAY, campaignId: "late_campaign" });
    await seedProfile(server.storage, server.project.id, { id: uid("user"), email, visitorIds: [visitor] });
    expect(await reattributeForEmail(server.instance.ctx, server.project.id, email)).toEqual([early.id]);
    const after = await (await server.api(`/api/v1/payments/${early.id}`)).json();
    expect(after.attribution).toMatchObject({ method: "identify_email", campaignId: "late_campaign" });
  });
});

describe("GET /api/v1/payments and the attribution report", () => {
  test("lists entries with their attribution, filtered by method and provider", async () => {
    const list = await (await server.api("/api/v1/payments?provider=api&method=session")).json();
    expect(list.payments.length).toBeGreaterThan(0);
    expect(list.payments.every((p: { provider: string; attribution: { method: string; explanation: string } }) => p.provider === "api" && p.attribution.method === "session" && p.attribution.explanation.length > 0)).toBe(true);
    const future = await (await server.api(`/api/v1/payments?from=${new Date(Date.now() + DAY).toISOString()}`)).json();
    expect(future.payments).toEqual([]);
    expect((await server.api("/api/v1/payments?method=psychic")).status).toBe(400);
    expect((await server.api("/api/v1/payments?from=someday")).status).toBe(400);
  });

  test("the report groups by every dimension, never adds currencies, and refunds reduce the sale's key", async () => {
    const lead = uid("lead");
    const at = Date.now() - DAY;
    await post({ transactionId: uid("txn"), amount: 10000, currency: "USD", timestamp: at, email: `${lead}@example.com`, metadata: { leadId: lead, source: "cold_email" } });
    await post({ transactionId: uid("txn"), amount: 3000, currency: "JPY", timestamp: at, metadata: { leadId: lead } });
    await post({ transactionId: uid("txn"), amount: 2500, currency: "USD", kind: "refund", timestamp: at + 1000, email: `${lead}@example.com` });
    const report = await (await server.api(`/api/v1/reports/attribution?groupBy=lead&from=${at - DAY}`)).json();
    const rows = report.rows.filter((r: { key: string }) => r.key === lead);
    // One row per key: the money in the reporting currency (USD), the JPY sale kept apart and counted as not converted.
    expect(rows).toEqual([
      {
        key: lead,
        label: lead,
        clicks: 0,
        visitors: 0,
        signups: 0,
        customers: 2,
        conversionRate: 0,
        payments: 2,
        revenue: 10000,
        refunds: 2500,
        net: 7500,
        revenuePerVisitor: 0,
        currency: "USD",
        byCurrency: [
          { currency: "USD", payments: 1, revenue: 10000, refunds: 2500, net: 7500 },
          { currency: "JPY", payments: 1, revenue: 3000, refunds: 0, net: 3000 },
        ],
        unconverted: 1,
      },
    ]);
    for (const groupBy of ["link", "campaign", "source", "medium", "content", "lead"]) {
      for (const model of ["last", "first"]) {
        const response = await server.api(`/api/v1/reports/attribution?groupBy=${groupBy}&model=${model}`);
        expect(response.status).toBe(200);
      }
    }
    expect((await server.api("/api/v1/reports/attribution?groupBy=planet")).status).toBe(400);
  });

  test("clicks come from the rollup, visitors and signups are people counted from the journey", async () => {
    const hour = Math.floor((Date.now() - 2 * DAY) / 3_600_000) * 3_600_000;
    const context = { ...EMPTY_CONTEXT, linkId: "lnk_rollup", campaignId: "rollup_campaign" };
    await seedLink(server.storage, server.project.id, { id: "lnk_rollup", campaignId: "rollup_campaign" });
    await server.instance.ctx.writes.job((tx) => bumpRollup(tx, server.project.id, hour, context, { clicks: 40 }));
    const visitors = [uid("v"), uid("v"), uid("v")];
    for (const [i, visitorId] of visitors.entries()) {
      await server.instance.ctx.writes.job((tx) => recordEvent(tx, { projectId: server.project.id, name: "page_view", ts: hour + i * 60_000, visitorId, context }));
      await server.instance.ctx.writes.job((tx) => recordEvent(tx, { projectId: server.project.id, name: "page_view", ts: hour + DAY / 2 + i * 60_000, visitorId, context }));
    }
    await server.instance.ctx.writes.job((tx) => recordEvent(tx, { projectId: server.project.id, name: "signup_completed", ts: hour + 600_000, visitorId: visitors[0]!, context }));
    await post({ transactionId: uid("txn"), amount: 2000, currency: "USD", timestamp: hour + 900_000, metadata: { linkId: "lnk_rollup", visitorId: visitors[0]! } });
    const report = await (await server.api(`/api/v1/reports/attribution?groupBy=link&from=${hour - DAY}`)).json();
    const row = report.rows.find((r: { key: string }) => r.key === "lnk_rollup");
    expect(row).toMatchObject({ clicks: 40, visitors: 3, signups: 1, customers: 1, conversionRate: 1 / 3, payments: 1, net: 2000, revenuePerVisitor: 667, currency: "USD" });
  });

  test("first touch credits the earliest context in the lookback window", async () => {
    const visitor = uid("v");
    const now = Date.now();
    await seedSession(server.storage, server.project.id, { visitorId: visitor, startedAt: now - 10 * DAY, campaignId: "first_touch_campaign" });
    await seedSession(server.storage, server.project.id, { visitorId: visitor, startedAt: now - DAY, campaignId: "last_touch_campaign" });
    await post({ transactionId: uid("txn"), amount: 4200, currency: "GBP", metadata: { visitor_id: visitor } });
    const last = await (await server.api("/api/v1/reports/attribution?groupBy=campaign&model=last")).json();
    const first = await (await server.api("/api/v1/reports/attribution?groupBy=campaign&model=first")).json();
    const gbp = (rows: { key: string; byCurrency: { currency: string }[] }[]) => rows.filter((r) => r.byCurrency.some((m) => m.currency === "GBP")).map((r) => r.key);
    expect(gbp(last.rows)).toEqual(["last_touch_campaign"]);
    expect(gbp(first.rows)).toEqual(["first_touch_campaign"]);
  });

  test("pages of the ledger follow each other without gaps or repeats", async () => {
    const all = (await (await server.api("/api/v1/payments?limit=1000")).json()).payments.map((p: { id: string }) => p.id);
    const seen: string[] = [];
    let cursor = "";
    for (let i = 0; i < 100; i++) {
      const page = await (await server.api(`/api/v1/payments?limit=3${cursor ? `&cursor=${cursor}` : ""}`)).json();
      seen.push(...page.payments.map((p: { id: string }) => p.id));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(all);
    expect(all.length).toBeGreaterThan(6);
  });

  test("the report adds up to exactly the ledger, re-attributions included", async () => {
    await expectReportMatchesLedger(server.instance.ctx, server.project.id);
  });

  test("the OpenAPI document lists the payment, integration and report operations", async () => {
    const doc = await (await fetch(`${server.url}/api/v1/openapi.json`)).json();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/payments", "/reports/attribution", "/integrations/stripe", "/integrations/polar"]));
  });
});
