// One revenue number: a USD project with USD, EUR, JPY and AED payments, rates fetched from a local
// feed of the ECB's format, a manual rate, a switch of reporting currency, and a feed that is down.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { startTestServer, type TestServer } from "../../testing/harness.ts";
import { balanceTransaction, checkoutSession, fakeStripeSettlements, polarOrder, sendPolar, sendStripe, stripeEvent, uid } from "../testing.ts";
import { setProviderEndpoints } from "../endpoints.ts";
import { userWithRole } from "../../dashboard/test-client.ts";
import { conversionJobs } from "./stored.ts";
import { fxFetcher } from "./fetcher.ts";
import { convertedTotals } from "./sums.ts";

const FEED = readFileSync(new URL("./testdata/eurofxref-hist-90d.xml", import.meta.url), "utf8");
const POLAR_SECRET = "polar_whs_currency_test";
let feedUp = true;
const feed = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: () => (feedUp ? new Response(FEED, { headers: { "content-type": "text/xml" } }) : new Response("maintenance", { status: 503 })),
});

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: { BANTICO_FX_URL: `http://127.0.0.1:${feed.port}/eurofxref-hist-90d.xml` } });
  await fxFetcher(server.instance.ctx)!.runNow();
  await settled();
});
afterAll(async () => {
  await server.close();
  feed.stop(true);
});

const settled = () => conversionJobs(server.instance.ctx)!.idle();
const post = async (json: Record<string, unknown>) => {
  const response = await server.api("/api/v1/payments", { method: "POST", json: { transactionId: uid("txn"), ...json } });
  expect(response.status).toBe(201);
  return response.json();
};
const reportingOf = async (id: string) => (await (await server.api(`/api/v1/payments/${id}`)).json()).reporting;
/** The converted sums the reports read from the rollup, for all time. */
const rollup = async (model: "last" | "first" = "last") =>
  (await server.storage.get<{ revenue: number; refunds: number; unconverted: number }>(
    `SELECT CAST(SUM(reporting_revenue) AS BIGINT) AS revenue, CAST(SUM(reporting_refunds) AS BIGINT) AS refunds, CAST(SUM(unconverted) AS BIGINT) AS unconverted
     FROM payment_stats_hourly WHERE project_id = ? AND model = ?`,
    [server.project.id, model],
  ))!;

/** The day and month sums a report over whole days reads, grain by grain: they must say what the hourly rows say. */
const periodSums = () =>
  server.storage.all<{ grain: string; revenue: number; refunds: number; unconverted: number }>(
    `SELECT grain, CAST(SUM(reporting_revenue) AS BIGINT) AS revenue, CAST(SUM(reporting_refunds) AS BIGINT) AS refunds, CAST(SUM(unconverted) AS BIGINT) AS unconverted
     FROM payment_stats_periods WHERE project_id = ? AND model = 'last' GROUP BY grain ORDER BY grain`,
    [server.project.id],
  );

const ids = {} as Record<"usd" | "eur" | "jpy" | "aed" | "saturday" | "polarSale" | "refund", string>;

describe("a USD project", () => {
  test("each payment carries its value in USD at the rate of its day, crossed through EUR", async () => {
    ids.usd = (await post({ amount: 10000, currency: "USD", timestamp: "2026-12-03T10:00:00Z" })).id;
    ids.eur = (await post({ amount: 5000, currency: "EUR", timestamp: "2026-12-03T10:00:00Z" })).id;
    ids.jpy = (await post({ amount: 3000, currency: "JPY", timestamp: "2026-12-04T10:00:00Z" })).id;
    ids.aed = (await post({ amount: 36730, currency: "AED", timestamp: "2026-12-04T10:00:00Z" })).id;
    ids.saturday = (await post({ amount: 1000, currency: "EUR", timestamp: "2026-12-05T10:00:00Z" })).id;
    expect(await reportingOf(ids.usd)).toEqual({ currency: "USD", amount: 10000, net: 10000, rate: 1, rateSource: "same", rateDate: "2026-12-03" });
    // €50 × 1.10 = $55.00.
    expect(await reportingOf(ids.eur)).toEqual({ currency: "USD", amount: 5500, net: 5500, rate: 1.1, rateSource: "ecb", rateDate: "2026-12-03" });
    // ¥3,000 × 1.08 / 162.50 = $19.938… → $19.94.
    expect(await reportingOf(ids.jpy)).toMatchObject({ amount: 1994, rateSource: "ecb", rateDate: "2026-12-04" });
    // No fixing on a Saturday: Friday's.
    expect(await reportingOf(ids.saturday)).toMatchObject({ amount: 1080, rateSource: "ecb", rateDate: "2026-12-04" });
    // The ECB has no AED: not converted, and never guessed.
    expect(await reportingOf(ids.aed)).toEqual({ currency: "USD", amount: null, net: null, rate: null, rateSource: "none", rateDate: null });
  });

  test("a refund is converted at its sale's rate, not at the rate of the refund's day", async () => {
    expect((await server.api("/api/v1/integrations/polar", { method: "PUT", json: { webhookSecret: POLAR_SECRET } })).status).toBe(200);
    const order = polarOrder({ currency: "eur", total_amount: 2400, tax_amount: 400, net_amount: 2000, created_at: "2026-12-03T09:00:00Z" });
    const event = (type: string, data: unknown, timestamp: string) => ({ type, timestamp, api_version: "2026-10", data });
    expect((await sendPolar(server.url, server.project.id, event("order.paid", order, "2026-12-03T09:00:00Z"), POLAR_SECRET)).status).toBe(200);
    const refunded = { ...order, status: "partially_refunded", refunded_amount: 1200, refunded_tax_amount: 200, modified_at: "2026-12-04T12:00:00Z" };
    expect((await sendPolar(server.url, server.project.id, event("order.refunded", refunded, "2026-12-04T12:00:00Z"), POLAR_SECRET)).status).toBe(200);
    const polar = (await (await server.api("/api/v1/payments?provider=polar")).json()).payments as { id: string; kind: string; reporting: unknown }[];
    ids.polarSale = polar.find((p) => p.kind === "sale")!.id;
    ids.refund = polar.find((p) => p.kind === "refund")!.id;
    // Sale: €24.00 (€20.00 net) × 1.10. Refund on 4 Dec: −€12.00 (−€10.00 net) × 1.10, the sale's rate, not × 1.08.
    expect(polar.find((p) => p.kind === "sale")!.reporting).toMatchObject({ amount: 2640, net: 2200, rateDate: "2026-12-03" });
    expect(polar.find((p) => p.kind === "refund")!.reporting).toMatchObject({ amount: -1320, net: -1100, rateSource: "ecb", rateDate: "2026-12-03" });
  });

  test("converted totals add the payments' reporting amounts and count the AED payment as not converted", async () => {
    const totals = await convertedTotals(server.storage, server.project.id, { from: Date.parse("2026-12-01"), to: Date.parse("2026-12-06") });
    const revenue = 10000 + 5500 + 1994 + 1080 + 2200;
    expect(totals).toMatchObject({ currency: "USD", revenue, refunds: 1100, net: revenue - 1100, unconverted: 1 });
    expect(totals.unconvertedByCurrency).toEqual([{ currency: "AED", payments: 1 }]);
    expect(await rollup()).toEqual({ revenue, refunds: 1100, unconverted: 1 });
  });

  test("a manual rate converts the AED payment; GET /fx/rates lists it beside the ECB's", async () => {
    expect((await server.api("/api/v1/fx/rates/ZZZ", { method: "PUT", json: { per: "USD", rate: 1 } })).status).toBe(400);
    expect((await server.api("/api/v1/fx/rates/AED", { method: "PUT", json: { per: "USD", rate: -2 } })).status).toBe(400);
    const put = await server.api("/api/v1/fx/rates/aed", { method: "PUT", json: { per: "usd", rate: 0.2723 } });
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ currency: "AED", per: "USD", rate: 0.2723, source: "manual", from: null });
    await settled();
    // 367.30 AED × 0.2723 = $100.0158 → $100.02.
    expect(await reportingOf(ids.aed!)).toMatchObject({ amount: 10002, rate: 0.2723, rateSource: "manual", rateDate: "2026-12-04" });
    expect(await rollup()).toEqual({ revenue: 20774 + 10002, refunds: 1100, unconverted: 0 });
    const rates = (await (await server.api("/api/v1/fx/rates")).json()).rates;
    expect(rates).toContainEqual({ currency: "AED", per: "USD", rate: 0.2723, source: "manual", from: null });
    expect(rates).toContainEqual({ currency: "EUR", per: "JPY", rate: 162.5, source: "ecb", from: "2026-12-04" });
  });

  test("switching the reporting currency to EUR answers at once and re-converts every row", async () => {
    const patched = await server.api("/api/v1/project", { method: "PATCH", json: { currency: "eur", countRenewals: false } });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ currency: "EUR", countRenewals: false });
    expect((await server.api("/api/v1/project", { method: "PATCH", json: { currency: "ZZZ" } })).status).toBe(400);
    await settled();
    const all = (await (await server.api("/api/v1/payments?limit=100")).json()).payments as { id: string; reporting: { currency: string; amount: number } }[];
    expect(all.every((p) => p.reporting.currency === "EUR")).toBe(true);
    const amount = (id: string) => all.find((p) => p.id === id)!.reporting.amount;
    // $100 / 1.10 = €90.909 → 9091; ¥3,000 / 162.5 = €18.46; AED by hand to USD, then by the ECB to EUR: 100.0158 / 1.08 = €92.61.
    expect([amount(ids.usd!), amount(ids.eur!), amount(ids.jpy!), amount(ids.aed!), amount(ids.saturday!), amount(ids.polarSale!), amount(ids.refund!)]).toEqual([
      9091, 5000, 1846, 9261, 1000, 2400, -1200,
    ]);
    const inEuros = await rollup();
    expect(inEuros).toEqual({ revenue: 9091 + 5000 + 1846 + 9261 + 1000 + 2000, refunds: 1000, unconverted: 0 });
    expect(await periodSums()).toEqual([
      { grain: "day", ...inEuros },
      { grain: "month", ...inEuros },
    ]);
    expect(await rollup("first")).toEqual(inEuros);
    await server.api("/api/v1/project", { method: "PATCH", json: { currency: "USD" } });
    await settled();
  });

  test("deleting the manual rate leaves the AED payment unconverted again", async () => {
    expect((await server.api("/api/v1/fx/rates/AED", { method: "DELETE" })).status).toBe(200);
    expect((await server.api("/api/v1/fx/rates/AED", { method: "DELETE" })).status).toBe(404);
    await settled();
    expect((await reportingOf(ids.aed!)).rateSource).toBe("none");
    expect((await rollup()).unconverted).toBe(1);
    expect((await periodSums()).map((p) => p.unconverted)).toEqual([1, 1]);
  });
});

describe("the dashboard", () => {
  test("the overview draws net revenue in USD alone, counts the AED payment it leaves out, and keeps the original currencies a click away", async () => {
    const owner = await userWithRole(server, "owner");
    const page = await (await owner.get(`/dashboard/${server.project.id}?from=2026-12-01&to=2026-12-06`)).text();
    const card = page.slice(page.indexOf("<h2>Net revenue (USD)"), page.indexOf("</section>", page.indexOf("<h2>Net revenue (USD)")));
    // $100.00 + €50.00 × 1.10 + ¥3,000 at 1.08/162.5 + €10.00 × 1.08 + Polar's €20.00 net × 1.10 − its €10.00 refund × 1.10 = $196.74; AED left out.
    expect(card).toMatch(/<title id="chart-[^"]+-chart-wide">Net revenue \(USD\) \(Net revenue: \$196\.7\)<\/title>/);
    expect(card).toContain(`<strong>1 payment in AED not converted</strong>: <a href="/dashboard/${server.project.id}/settings/rates`);
    expect(card).toContain("<summary>In original currencies</summary>");
    expect(card).toContain('<li>AED\u00a0367.30 <small class="muted">net of 1 payment, 1 not converted</small></li>');
    expect(card).toContain('<li>€70.00 <small class="muted">net of 3 payments</small></li>');
    expect(page).not.toContain("Net revenue (EUR)");
    // The tile and the tables: $196.74 with the AED payment counted beside it, not its amount shown as if it were revenue.
    expect(page).toMatch(/<div class="label">Net revenue<\/div><div class="value"><span title="In original currencies: [^"]*AED[^"]*">\$196\.74<\/span><br><small class="muted" title="Payments without a rate into USD, left out of this sum">\+ 1 not converted<\/small>/);
    expect(page).not.toContain("+ AED");
    // The same days, already folded for the page above, follow a change of reporting currency once history is re-converted:
    // $100.00 / 1.10 + €50.00 + ¥3,000 / 162.5 + €10.00 + €20.00 − €10.00 = €179.37.
    expect((await server.api("/api/v1/project", { method: "PATCH", json: { currency: "EUR" } })).status).toBe(200);
    await settled();
    const inEuros = await (await owner.get(`/dashboard/${server.project.id}?from=2026-12-01&to=2026-12-06`)).text();
    expect(inEuros).toMatch(/<title id="chart-[^"]+-chart-wide">Net revenue \(EUR\) \(Net revenue: €179\.4\)<\/title>/);
    await server.api("/api/v1/project", { method: "PATCH", json: { currency: "USD" } });
    await settled();
  });

  test("the payments page gives one total and names what it leaves out; a rate saved in settings converts it", async () => {
    const owner = await userWithRole(server, "owner");
    const before = await (await owner.get(`/dashboard/${server.project.id}/payments?from=2026-12-01&to=2026-12-06`)).text();
    expect(before).toContain("1 payment in AED not converted");
    expect(before).toContain("not converted</small>");
    // The whole ledger's count, as the rollup keeps it.
    expect(await (await owner.get(`/dashboard/${server.project.id}/settings/rates`)).text()).toContain("1 payment in AED not converted: add a rate.");
    const bad = await owner.post(`/dashboard/${server.project.id}/settings/rates`, { currency: "ZZZ", per: "USD", rate: "0.27" });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain("&quot;ZZZ&quot; is not an active ISO 4217 currency code");
    const saved = await owner.post(`/dashboard/${server.project.id}/settings/rates`, { currency: "AED", per: "USD", rate: "0.2723", from: "" });
    expect(saved.status).toBe(303);
    await settled();
    const after = await (await owner.get(`/dashboard/${server.project.id}/payments?from=2026-12-01&to=2026-12-06`)).text();
    expect(after).not.toContain("not converted");
    expect(after).toContain("$100.02");
    const settings = await (await owner.get(`/dashboard/${server.project.id}/settings/rates`)).text();
    expect(settings).toContain("1 AED = 0.2723 USD");
    expect(settings).not.toContain("not converted");
    expect(settings).toContain("Latest ECB fixing: <strong>2026-12-04</strong>");
    expect((await owner.post(`/dashboard/${server.project.id}/settings/rates/AED/delete`)).status).toBe(303);
    await settled();
  });
});

describe("Stripe's own conversion", () => {
  test("a Stripe payment in EUR settled in USD takes Stripe's amount, not the ECB's rate", async () => {
    const key = "rk_test_settlement_reader_000000000";
    const secret = "whsec_settlement_test";
    const intent = uid("pi");
    // €49.00 settled as $53.41 (Stripe's rate 1.09 per euro, given per cent); the ECB's would give $52.92.
    const stripe = fakeStripeSettlements(key, new Map([[intent, balanceTransaction({ amount: 5341, currency: "usd", exchange_rate: 1.09, fee: 185 })]]));
    const project = await startTestServer({ env: { BANTICO_FX_URL: `http://127.0.0.1:${feed.port}/eurofxref-hist-90d.xml` } });
    try {
      setProviderEndpoints(project.instance.ctx, { stripe: stripe.url });
      await fxFetcher(project.instance.ctx)!.runNow();
      expect((await project.api("/api/v1/integrations/stripe", { method: "PUT", json: { apiKey: key, webhookSecret: secret } })).status).toBe(200);
      const session = checkoutSession({ currency: "eur", amount_total: 4900, payment_intent: intent });
      const created = Math.floor(Date.parse("2026-12-04T10:00:00Z") / 1000);
      expect((await sendStripe(project.url, project.project.id, stripeEvent("checkout.session.completed", session, { created }), secret)).status).toBe(200);
      const [payment] = (await (await project.api("/api/v1/payments?provider=stripe")).json()).payments;
      expect(payment).toMatchObject({ amount: 4900, currency: "EUR", settlement: { currency: "USD", amount: 5341 } });
      expect(payment.reporting).toEqual({ currency: "USD", amount: 5341, net: 5341, rate: 1.09, rateSource: "provider", rateDate: "2026-12-04" });
      expect(stripe.requests.some((r) => r.path === `/v1/payment_intents/${intent}`)).toBe(true);
    } finally {
      await project.close();
      stripe.stop();
    }
  });
});

describe("the rate feed", () => {
  test("a feed that is down is retried and shown; rates arrive when it is back, and waiting payments are converted", async () => {
    // Down before the server starts: its fetcher's first check, made while it starts, would otherwise find the rates.
    feedUp = false;
    const down = await startTestServer({ env: { BANTICO_FX_URL: `http://127.0.0.1:${feed.port}/eurofxref-hist-90d.xml` } });
    try {
      const fetcher = fxFetcher(down.instance.ctx)!;
      expect(await fetcher.runNow()).toContain("503");
      // The server keeps answering; the payment waits for its rate.
      const waiting = await (await down.api("/api/v1/payments", { method: "POST", json: { transactionId: uid("txn"), amount: 5000, currency: "EUR", timestamp: "2026-12-03T10:00:00Z" } })).json();
      expect(waiting.reporting).toMatchObject({ rateSource: "none" });
      const { feedStatus } = await import("./rates.ts");
      const { readJob } = await import("../../db/storage/jobs.ts");
      expect(await readJob(down.instance.ctx.storage, feedStatus)).toMatchObject({ lastError: "the feed answered HTTP 503", latestDay: null });
      feedUp = true;
      expect(await fetcher.runNow()).toBeNull();
      await conversionJobs(down.instance.ctx)!.idle();
      const converted = await (await down.api(`/api/v1/payments/${waiting.id}`)).json();
      expect(converted.reporting).toMatchObject({ amount: 5500, rateSource: "ecb" });
      expect(await readJob(down.instance.ctx.storage, feedStatus)).toMatchObject({ lastError: null, failures: 0, latestDay: "2026-12-04" });
    } finally {
      feedUp = true;
      await down.close();
    }
  });
});
