// MRR movements from hand-computed fixtures: monthly and yearly plans, an upgrade, a downgrade, a
// cancellation and a lapse, fed through the API, per month and per campaign (the first sale's).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../testing/harness.ts";
import { userWithRole } from "../dashboard/test-client.ts";
import { invoice, polarOrder, sendPolar, sendStripe, stripeEvent, uid } from "../payments/testing.ts";
import { addIntervals } from "./store.ts";
import { monthlyAmount, mrrAt, readSubscriptions, readSubscriptionsFrom } from "./mrr.ts";

// The clock stands on 30 November 2026: the fixtures below are all in its past, whenever the tests run.
const NOW = Date.parse("2026-11-30T12:00:00Z");
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ now: () => NOW });
});
afterAll(() => server.close());

const pay = async (subscription: { id: string; interval: string }, amount: number, date: string, campaignId?: string) => {
  const response = await server.api("/api/v1/payments", {
    method: "POST",
    json: { transactionId: uid("txn"), amount, currency: "USD", timestamp: `${date}T12:00:00Z`, subscription, ...(campaignId ? { metadata: { campaignId } } : {}) },
  });
  expect(response.status).toBe(201);
  return response.json();
};
const mrr = async (query: string) => (await (await server.api(`/api/v1/reports/mrr?from=2026-07-01&to=2026-12-01${query}`)).json()).rows;
const row = (month: string, key: string | null, figures: Partial<Record<"mrr" | "new" | "expansion" | "contraction" | "churned" | "activeSubscriptions", number>>) => ({
  month,
  key,
  mrr: 0,
  new: 0,
  expansion: 0,
  contraction: 0,
  churned: 0,
  activeSubscriptions: 0,
  currency: "USD",
  ...figures,
});

describe("subscriptions fed through the API", () => {
  test("a monthly plan upgraded, a yearly plan, a monthly plan downgraded then cancelled, and one that lapses", async () => {
    const s1 = { id: uid("sub"), interval: "month" };
    const first = await pay(s1, 3000, "2026-07-10", "alpha");
    expect(first.kind).toBe("sale");
    const renewal = await pay(s1, 3000, "2026-08-10");
    expect(renewal).toMatchObject({ kind: "renewal", attribution: { method: "customer", campaignId: "alpha" } });
    await pay(s1, 5000, "2026-09-10"); // upgrade to $50
    await pay(s1, 5000, "2026-10-10");
    await pay(s1, 5000, "2026-11-10");
    await pay({ id: uid("sub"), interval: "year" }, 120000, "2026-08-15", "beta"); // $1,200 a year: $100 a month
    const s3 = { id: uid("sub"), interval: "month" };
    await pay(s3, 10000, "2026-08-01", "beta");
    await pay(s3, 6000, "2026-09-01"); // downgrade to $60
    await pay(s3, 6000, "2026-10-01");
    const cancel = await server.api(`/api/v1/subscriptions/${s3.id}/cancel`, { method: "POST", json: { at: "2026-10-20T00:00:00Z" } });
    expect(cancel.status).toBe(200);
    expect((await server.api("/api/v1/subscriptions/sub_unknown/cancel", { method: "POST", json: {} })).status).toBe(404);
    await pay({ id: uid("sub"), interval: "month" }, 2000, "2026-09-05", "alpha"); // never renewed: lapses on 5 Oct
  });

  test("renewals are counted apart in the rollup, for totals that leave them out", async () => {
    const sums = await server.storage.get(
      `SELECT CAST(SUM(payments) AS BIGINT) AS payments, CAST(SUM(renewals) AS BIGINT) AS renewals, CAST(SUM(renewal_revenue) AS BIGINT) AS renewal_revenue,
         CAST(SUM(reporting_renewal_revenue) AS BIGINT) AS converted
       FROM payment_stats_periods WHERE project_id = ? AND model = 'last' AND grain = 'month'`,
      [server.project.id],
    );
    // Four payments of the first plan after its sale, two of the downgraded one.
    expect(sums).toEqual({ payments: 10, renewals: 6, renewal_revenue: 3000 + 5000 * 3 + 6000 * 2, converted: 3000 + 5000 * 3 + 6000 * 2 });
  });

  test("MRR and its movements per month add up by hand", async () => {
    expect(await mrr("")).toEqual([
      row("2026-07", null, { mrr: 3000, new: 3000, activeSubscriptions: 1 }),
      row("2026-08", null, { mrr: 23000, new: 20000, activeSubscriptions: 3 }),
      row("2026-09", null, { mrr: 23000, new: 2000, expansion: 2000, contraction: 4000, activeSubscriptions: 4 }),
      row("2026-10", null, { mrr: 15000, churned: 8000, activeSubscriptions: 2 }),
      row("2026-11", null, { mrr: 15000, activeSubscriptions: 2 }),
    ]);
  });

  test("per campaign, each subscription counts for its first sale's campaign", async () => {
    const rows = await mrr("&groupBy=campaign");
    expect(rows.filter((r: { key: string }) => r.key === "alpha")).toEqual([
      row("2026-07", "alpha", { mrr: 3000, new: 3000, activeSubscriptions: 1 }),
      row("2026-08", "alpha", { mrr: 3000, activeSubscriptions: 1 }),
      row("2026-09", "alpha", { mrr: 7000, new: 2000, expansion: 2000, activeSubscriptions: 2 }),
      row("2026-10", "alpha", { mrr: 5000, churned: 2000, activeSubscriptions: 1 }),
      row("2026-11", "alpha", { mrr: 5000, activeSubscriptions: 1 }),
    ]);
    expect(rows.filter((r: { key: string }) => r.key === "beta")).toEqual([
      row("2026-07", "beta", {}),
      row("2026-08", "beta", { mrr: 20000, new: 20000, activeSubscriptions: 2 }),
      row("2026-09", "beta", { mrr: 16000, contraction: 4000, activeSubscriptions: 2 }),
      row("2026-10", "beta", { mrr: 10000, churned: 6000, activeSubscriptions: 1 }),
      row("2026-11", "beta", { mrr: 10000, activeSubscriptions: 1 }),
    ]);
    expect((await server.api("/api/v1/reports/mrr?groupBy=planet")).status).toBe(400);
  });

  test("the MRR page shows this month's MRR, its chart and the movements", async () => {
    const owner = await userWithRole(server, "viewer");
    const page = await owner.get(`/dashboard/${server.project.id}/mrr?groupBy=campaign`);
    expect(page.status).toBe(200);
    const text = await page.text();
    expect(text).toContain('aria-current="page">MRR</a>');
    expect(text).toMatch(/<div class="label">MRR<\/div><div class="value">\$150\.00<\/div>/);
    expect(text).toContain('<svg class="chart chart-time chart-wide"');
    expect(text).toContain("MRR by campaign");
    expect(text).toMatch(/<td[^>]*>2026-10<\/td>(.|\n)*?\$80\.00/);
  });

  test("subscriptions read a few rows at a time are the ones read at once", async () => {
    const whole = { heads: 1000, periods: 1000 };
    const few = { heads: 2, periods: 3 };
    const once = await readSubscriptionsFrom(server.storage, server.project.id, whole);
    expect(await readSubscriptionsFrom(server.storage, server.project.id, few)).toEqual(once);
    expect(once.length).toBeGreaterThan(3);
    if (server.storage.engine === "sqlite") {
      // SQLite's synchronous reader yields between its pages, for the caller to let others run.
      const readAll = (pages: { heads: number; periods: number }) => {
        const reading = readSubscriptions(server.instance.ctx.db, server.project.id, pages);
        let page = reading.next();
        let steps = 0;
        for (; !page.done; steps++) page = reading.next();
        return { subs: page.value, steps };
      };
      const unpaged = readAll(whole);
      const paged = readAll(few);
      expect(unpaged.steps).toBe(0);
      expect(paged.steps).toBeGreaterThan(4);
      expect(unpaged.subs).toEqual(once);
      expect(paged.subs).toEqual(once);
    }
  });

    test("a report reads a sale or a cancellation made after it at once", async () => {
    const november = async () => (await mrr("")).find((r: { month: string }) => r.month === "2026-11").mrr as number;
    const before = await november();
    const sub = { id: uid("sub"), interval: "month" };
    await pay(sub, 4000, "2026-11-02", "gamma");
    expect(await november()).toBe(before + 4000);
    expect((await server.api(`/api/v1/subscriptions/${sub.id}/cancel`, { method: "POST", json: { at: "2026-11-03T00:00:00Z" } })).status).toBe(200);
    expect(await november()).toBe(before);
  });
});

describe("the rules", () => {
  test("a year is ÷ 12, a week × 52/12, rounded once half to even; periods are calendar intervals", () => {
    expect([monthlyAmount(120000, "year", 1), monthlyAmount(1000, "week", 1), monthlyAmount(9000, "month", 3), monthlyAmount(18, "year", 1)]).toEqual([10000, 4333, 3000, 2]);
    expect(new Date(addIntervals(Date.parse("2026-01-31T12:00:00Z"), "month", 1)).toISOString()).toBe("2026-02-28T12:00:00.000Z");
    expect(new Date(addIntervals(Date.parse("2024-02-29T00:00:00Z"), "year", 1)).toISOString()).toBe("2025-02-28T00:00:00.000Z");
  });

  test("a period ending without a renewal within 3 days lapses at its end; one still within the 3 days counts", () => {
    const day = 86_400_000;
    const sub = { key: null, cancelledAt: null, periods: [{ start: 0, end: 30 * day, mrr: 500 }] };
    expect(mrrAt(sub, 31 * day, 32 * day)).toBe(500);
    expect(mrrAt(sub, 31 * day, 34 * day)).toBe(0);
    const renewedLate = { ...sub, periods: [...sub.periods, { start: 32 * day, end: 62 * day, mrr: 700 }] };
    expect(mrrAt(renewedLate, 31 * day, 100 * day)).toBe(500);
    expect(mrrAt({ ...sub, cancelledAt: 10 * day }, 11 * day, 12 * day)).toBe(0);
  });
});

describe("subscriptions from Stripe and Polar", () => {
  test("Stripe invoices give the period and interval, customer.subscription.deleted ends it; Polar orders give recurring_interval, revoked ends it", async () => {
    const other = await startTestServer({ now: () => NOW });
    try {
      const stripeSecret = "whsec_mrr_test";
      const polarSecret = "polar_whs_mrr_test";
      expect((await other.api("/api/v1/integrations/stripe", { method: "PUT", json: { webhookSecret: stripeSecret } })).status).toBe(200);
      expect((await other.api("/api/v1/integrations/polar", { method: "PUT", json: { webhookSecret: polarSecret } })).status).toBe(200);
      const subscription = uid("sub");
      const seconds = (date: string) => Date.parse(date) / 1000;
      // A yearly Stripe plan of $240, paid 2026-08-03, cancelled 2026-10-15.
      const paid = invoice({
        subscription,
        amount_paid: 24000,
        metadata: { campaignId: "stripe_campaign" },
        status_transitions: { paid_at: seconds("2026-08-03T00:00:00Z") },
        lines: { data: [{ id: uid("il"), amount: 24000, proration: false, period: { start: seconds("2026-08-03T00:00:00Z"), end: seconds("2027-08-03T00:00:00Z") }, price: { recurring: { interval: "year", interval_count: 1 } } }] },
      });
      expect((await sendStripe(other.url, other.project.id, stripeEvent("invoice.paid", paid), stripeSecret)).status).toBe(200);
      const deleted = stripeEvent("customer.subscription.deleted", { id: subscription, object: "subscription", status: "canceled", ended_at: seconds("2026-10-15T00:00:00Z") });
      expect((await sendStripe(other.url, other.project.id, deleted, stripeSecret)).status).toBe(200);
      // A monthly Polar plan of $20 started on 2 September and revoked on the 20th: new and churned within September.
      const polarSubscription = crypto.randomUUID();
      const order = polarOrder({
        currency: "usd",
        net_amount: 2000,
        tax_amount: 0,
        total_amount: 2000,
        created_at: "2026-09-02T00:00:00Z",
        billing_reason: "subscription_create",
        subscription_id: polarSubscription,
        metadata: { campaignId: "polar_campaign" },
        subscription: { id: polarSubscription, recurring_interval: "month", current_period_start: "2026-09-02T00:00:00Z", current_period_end: "2026-10-02T00:00:00Z" },
      });
      const event = (type: string, data: unknown) => ({ type, timestamp: "2026-09-20T00:00:00Z", api_version: "2026-10", data });
      expect((await sendPolar(other.url, other.project.id, event("order.paid", order), polarSecret)).status).toBe(200);
      expect((await sendPolar(other.url, other.project.id, event("subscription.revoked", { id: polarSubscription, ended_at: "2026-09-20T00:00:00Z" }), polarSecret)).status).toBe(200);
      const rows = (await (await other.api("/api/v1/reports/mrr?groupBy=campaign&from=2026-08-01&to=2026-11-01")).json()).rows;
      const of = (key: string) => rows.filter((r: { key: string }) => r.key === key).map((r: { month: string; mrr: number; new: number; churned: number }) => [r.month, r.mrr, r.new, r.churned]);
      expect(of("stripe_campaign")).toEqual([["2026-08", 2000, 2000, 0], ["2026-09", 2000, 0, 0], ["2026-10", 0, 0, 2000]]);
      expect(of("polar_campaign")).toEqual([["2026-08", 0, 0, 0], ["2026-09", 0, 2000, 2000], ["2026-10", 0, 0, 0]]);
      const periods = await other.storage.all<{ interval: string; period_start: number; period_end: number }>("SELECT interval, period_start, period_end FROM subscription_periods ORDER BY period_start");
      expect(periods).toEqual([
        { interval: "year", period_start: Date.parse("2026-08-03T00:00:00Z"), period_end: Date.parse("2027-08-03T00:00:00Z") },
        { interval: "month", period_start: Date.parse("2026-09-02T00:00:00Z"), period_end: Date.parse("2026-10-02T00:00:00Z") },
      ]);
    } finally {
      await other.close();
    }
  });
});
