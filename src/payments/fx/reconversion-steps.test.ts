// A re-conversion resumed chunk by chunk, on the test engine: from a month's step it sums the month
// from its days and finishes, and writes landing between its steps leave every period the sum of its hours.
import { afterEach, expect, test } from "bun:test";
import { freshDatabase, type TestDatabase } from "../../testing/engines.ts";
import { testEngine } from "../../testing/harness.ts";
import { resumConvertedHours, resumConvertedPeriod } from "../ledger.ts";
import { convertChunk } from "./stored.ts";
import { answered } from "../../db/storage/jobs.ts";

let database: TestDatabase;
afterEach(() => database.close());

/** A fresh database with one project, 'prj_old'. */
async function withProject(): Promise<TestDatabase> {
  database = await freshDatabase(testEngine());
  await database.storage.run("INSERT INTO projects (id, name, token, created_at) VALUES ('prj_old', 'Old', 'bt_pub_old', 0)");
  return database;
}

/** One chunk of the re-conversion, run as the engine's write queue runs it. */
const chunk = ({ writes }: TestDatabase) =>
  writes.job((tx) => convertChunk(tx, () => answered(undefined), { hours: resumConvertedHours, period: resumConvertedPeriod }, 100));

test("a re-conversion left at a month's step sums that month from its days and finishes", async () => {
  const { storage } = await withProject();
  const month = Date.parse("2026-11-01T00:00:00Z");
  // Hours and days already re-summed on 3 and 20 November; the month rows still hold the value before the switch.
  for (const day of [Date.parse("2026-11-03T00:00:00Z"), Date.parse("2026-11-20T00:00:00Z")]) {
    for (const model of ["last", "first"]) {
      await storage.run("INSERT INTO payment_stats_hourly (project_id, hour, model, currency, payments, revenue, reporting_revenue) VALUES ('prj_old', ?, ?, 'EUR', 1, 2900, 3132)", [
        day + 36e5,
        model,
      ]);
    }
  }
  await storage.run("UPDATE payment_stats_periods SET reporting_revenue = 5800 WHERE grain = 'month'");
  await storage.run("INSERT INTO fx_reconversions (project_id, after_rowid, done, total, started_at, rollup_hour, rollup_end, rollup_step) VALUES ('prj_old', 1, 1, 1, 0, ?, ?, 'month last')", [
    Date.parse("2026-11-20T00:00:00Z"),
    Date.parse("2026-11-21T00:00:00Z"),
  ]);
  while ((await chunk(database)) !== null);
  expect(await storage.get("SELECT count(*) AS n FROM fx_reconversions")).toEqual({ n: 0 });
  expect(await storage.all("SELECT model, reporting_revenue FROM payment_stats_periods WHERE grain = 'month' AND period = ? ORDER BY model", [month])).toEqual([
    { model: "first", reporting_revenue: 6264 },
    { model: "last", reporting_revenue: 6264 },
  ]);
});

test("writes landing between a re-conversion's steps leave every day and month row the sum of its hours", async () => {
  const { storage } = await withProject();
  const days = [Date.parse("2026-11-03T00:00:00Z"), Date.parse("2026-11-20T00:00:00Z"), Date.parse("2026-12-01T00:00:00Z")];
  for (const day of days) {
    for (const model of ["last", "first"]) {
      await storage.run("INSERT INTO payment_stats_hourly (project_id, hour, model, currency, payments, revenue, reporting_revenue) VALUES ('prj_old', ?, ?, 'EUR', 1, 100, 100)", [
        day + 36e5,
        model,
      ]);
    }
  }
  await storage.run("INSERT INTO fx_reconversions (project_id, after_rowid, done, total, started_at, rollup_hour, rollup_end) VALUES ('prj_old', 0, 0, 0, 0, ?, ?)", [
    days[0]!,
    days[2]! + 86_400_000,
  ]);
  // After every chunk, a late payment lands on one of the days, as the ledger's upsert adds it (the period trigger carries it up).
  let chunks = 0;
  while ((await chunk(database)) !== null) {
    const day = days[chunks++ % days.length]!;
    await storage.run(
      "UPDATE payment_stats_hourly SET payments = payments + 1, revenue = revenue + 50, reporting_revenue = reporting_revenue + 50 WHERE project_id = 'prj_old' AND hour = ?",
      [day + 36e5],
    );
  }
  expect(chunks).toBeGreaterThan(10);
  const periods = await storage.all<{ model: string; grain: string; period: number; reporting_revenue: number }>("SELECT model, grain, period, reporting_revenue FROM payment_stats_periods");
  const hourly = await storage.all<{ model: string; hour: number; reporting_revenue: number }>("SELECT model, hour, reporting_revenue FROM payment_stats_hourly");
  for (const row of periods) {
    const end = row.grain === "day" ? row.period + 86_400_000 : Date.UTC(new Date(row.period).getUTCFullYear(), new Date(row.period).getUTCMonth() + 1, 1);
    const sum = hourly.filter((h) => h.model === row.model && h.hour >= row.period && h.hour < end).reduce((total, h) => total + h.reporting_revenue, 0);
    expect({ ...row, reporting_revenue: sum }).toEqual(row);
  }
});
