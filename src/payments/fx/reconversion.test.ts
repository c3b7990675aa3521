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

const KEY = ["model", "currency", "link_id", "campaign_id", "source", "medium", "content", "lead_id"] as const;
type Sums = Record<(typeof KEY)[number], string> & { reporting_revenue: number; reporting_refunds: number };

/** Each day or month row's converted columns beside the sums of its hourly rows, where they differ. */
async function mismatches(): Promise<unknown[]> {
  const columns = `${KEY.join(", ")}, reporting_revenue, reporting_refunds`;
  const periods = await server.storage.all<Sums & { grain: string; period: number; unconverted: number }>(
    `SELECT grain, period, unconverted, ${columns} FROM payment_stats_periods WHERE project_id = ?`,
    [server.project.id],
  );
  const hourly = await server.storage.all<Sums & { hour: number }>(`SELECT hour, ${columns} FROM payment_stats_hourly WHERE project_id = ?`, [server.project.id]);
  return periods
    .map((p) => {
      const end = p.grain === "day" ? p.period + DAY : Date.UTC(new Date(p.period).getUTCFullYear(), new Date(p.period).getUTCMonth() + 1, 1);
      const hours = hourly.filter((h) => KEY.every((k) => h[k] === p[k]) && h.hour >= p.period && h.hour < end);
      // As SQL's SUM: null over no rows.
      const sum = (column: "reporting_revenue" | "reporting_refunds") => (hours.length ? hours.reduce((total, h) => total + h[column], 0) : null);
      return { ...p, hourly_revenue: sum("reporting_revenue"), hourly_refunds: sum("reporting_refunds") };
    })
    .filter((row) => row.reporting_revenue !== row.hourly_revenue || row.reporting_refunds !== row.hourly_refunds);
}

const periodRevenue = () =>
  server.storage.all<{ grain: string; model: string; revenue: number }>(
    "SELECT grain, model, CAST(SUM(reporting_revenue) AS BIGINT) AS revenue FROM payment_stats_periods WHERE project_id = ? GROUP BY grain, model ORDER BY grain, model",
    [server.project.id],
  );

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
  expect(await mismatches()).toEqual([]);
  const inUsd = await periodRevenue();
  expect(new Set(inUsd.map((r) => r.grain))).toEqual(new Set(["day", "month"]));
  expect((await server.api("/api/v1/project", { method: "PATCH", json: { currency: "EUR" } })).status).toBe(200);
  await settled();
  expect(await mismatches()).toEqual([]);
  const inEur = await periodRevenue();
  // Every figure moved: the sums are re-summed in EUR, not left in USD.
  for (const [i, row] of inEur.entries()) expect(row.revenue).toBeLessThan(inUsd[i]!.revenue);
  expect((await server.api("/api/v1/project", { method: "PATCH", json: { currency: "USD" } })).status).toBe(200);
  await settled();
  expect(await mismatches()).toEqual([]);
  expect(await periodRevenue()).toEqual(inUsd);
});
