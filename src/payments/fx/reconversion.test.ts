// A change of reporting currency re-sums the rollup a day at a time and adds each day to its month:
// afterwards every day and month row says what its hourly rows say, for both attribution models,
// across months (payments over three months in three currencies, refunds among them).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../../testing/harness.ts";
import { uid } from "../testing.ts";
import { conversionJobs } from "./stored.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: { BANTICO_FX_URL: "off" } });
});
afterAll(() => server.close());

const settled = () => conversionJobs(server.instance.ctx)!.idle();
const DAY = 86_400_000;

/** Each day or month row's converted columns beside the sums of its hourly rows, where they differ. */
function mismatches(): unknown[] {
  return server.instance.ctx.db
    .query<Record<string, unknown>, [string]>(
      `SELECT p.model, p.grain, p.period, p.currency, p.reporting_revenue, p.reporting_refunds, p.unconverted,
         (SELECT SUM(h.reporting_revenue) FROM payment_stats_hourly h WHERE h.project_id = p.project_id AND h.model = p.model AND h.currency = p.currency
            AND h.link_id = p.link_id AND h.campaign_id = p.campaign_id AND h.source = p.source AND h.medium = p.medium AND h.content = p.content AND h.lead_id = p.lead_id
            AND h.hour >= p.period AND h.hour < CASE p.grain WHEN 'day' THEN p.period + ${DAY} ELSE unixepoch(p.period / 1000, 'unixepoch', '+1 month') * 1000 END) AS hourly_revenue,
         (SELECT SUM(h.reporting_refunds) FROM payment_stats_hourly h WHERE h.project_id = p.project_id AND h.model = p.model AND h.currency = p.currency
            AND h.link_id = p.link_id AND h.campaign_id = p.campaign_id AND h.source = p.source AND h.medium = p.medium AND h.content = p.content AND h.lead_id = p.lead_id
            AND h.hour >= p.period AND h.hour < CASE p.grain WHEN 'day' THEN p.period + ${DAY} ELSE unixepoch(p.period / 1000, 'unixepoch', '+1 month') * 1000 END) AS hourly_refunds
       FROM payment_stats_periods p WHERE p.project_id = ?`,
    )
    .all(server.project.id)
    .filter((row) => row.reporting_revenue !== row.hourly_revenue || row.reporting_refunds !== row.hourly_refunds);
}

const periodRevenue = () =>
  server.instance.ctx.db
    .query<{ grain: string; model: string; revenue: number }, [string]>(
      "SELECT grain, model, SUM(reporting_revenue) AS revenue FROM payment_stats_periods WHERE project_id = ? GROUP BY grain, model ORDER BY grain, model",
    )
    .all(server.project.id);

test("after a switch of reporting currency and back, every day and month row of both models is the sum of its hours", async () => {
  // Manual rates for every day: 1 EUR = 1.25 USD, 1 JPY = 1/150 USD.
  for (const [currency, rate] of [["EUR", 1.25], ["JPY", 1 / 150]] as const) {
    expect((await server.api(`/api/v1/fx/rates/${currency}`, { method: "PUT", json: { per: "USD", rate } })).status).toBe(200);
  }
  const start = Date.UTC(2026, 8, 18, 9);
  const currencies = ["USD", "EUR", "JPY"];
  for (let i = 0; i < 45; i++) {
    const at = start + i * 1.6 * DAY + (i % 5) * 3_600_000;
    const currency = currencies[i % 3]!;
    const response = await server.api("/api/v1/payments", {
      method: "POST",
      json: {
        transactionId: uid("txn"),
        amount: currency === "JPY" ? 3000 + i * 10 : 1000 + i * 37,
        currency,
        kind: i % 7 === 3 ? "refund" : "sale",
        timestamp: new Date(at).toISOString(),
        metadata: { campaignId: `c${i % 4}`, source: i % 2 ? "newsletter" : "x" },
      },
    });
    expect(response.status).toBe(201);
  }
  await settled();
  expect(mismatches()).toEqual([]);
  const inUsd = periodRevenue();
  expect(new Set(inUsd.map((r) => r.grain))).toEqual(new Set(["day", "month"]));
  expect((await server.api("/api/v1/project", { method: "PATCH", json: { currency: "EUR" } })).status).toBe(200);
  await settled();
  expect(mismatches()).toEqual([]);
  const inEur = periodRevenue();
  // Every figure moved: the sums are re-summed in EUR, not left in USD.
  for (const [i, row] of inEur.entries()) expect(row.revenue).toBeLessThan(inUsd[i]!.revenue);
  expect((await server.api("/api/v1/project", { method: "PATCH", json: { currency: "USD" } })).status).toBe(200);
  await settled();
  expect(mismatches()).toEqual([]);
  expect(periodRevenue()).toEqual(inUsd);
});
