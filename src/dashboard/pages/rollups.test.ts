// Day-folded rollups must give exactly what summing the hourly rollups gives, and pick up late data.
// SQLite only: its subject is SQLite's day fold, read on a miss from the Database and kept until it goes stale by age or a write note on the Database (days.ts); PostgreSQL's prime-then-compute of the same folds is covered by src/reports/engines.test.ts and warmup-postgres.test.ts, and the started signups on both engines by signups-started.test.ts.
import { runJobOnSqlite } from "../../db/storage/jobs.ts";
import type { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { loadConfig } from "../../config.ts";
import { openInstance, type Instance } from "../../instance.ts";
import { createProject } from "../../projects/service.ts";
import { tempDataDir } from "../../testing/harness.ts";
import { seedJourneys, seedPayments } from "../../../bench/seed-dashboard.ts";
import { revenueTotals } from "./payments.sql.ts";
import { trafficTotals } from "./traffic.sql.ts";
import { revenue, revenueSeries, traffic, trafficSeries, type RollupQuery } from "./rollups.ts";
import { DAY_MS, HOUR_MS } from "./time.ts";
import { EMPTY_CONTEXT } from "../../tracking/attribution-context.ts";
import { bumpRollup, recordEvent } from "../../tracking/events.ts";
import { GROUP_BY, primeSums, rollupSums } from "../../reports/attribution.ts";
import { foldedDays } from "../../reports/days.ts";
import { noteWrite } from "../../reports/writes.ts";
import { sqliteStorage } from "../../db/storage/sqlite.ts";

const data = tempDataDir("bantico-rollups");
let instance: Instance;
let q: RollupQuery<Database>;
const end = Date.UTC(2026, 10, 20);

beforeAll(async () => {
  instance = openInstance(loadConfig({ BANTICO_DATA_DIR: data.dir, PORT: "0" }));
  const db = instance.ctx.db;
  const project = await createProject(sqliteStorage(db), { name: "Rollups" });
  seedJourneys(db, { projectId: project.id, events: 40_000, end, days: 12, links: 40 });
  seedPayments(db, { projectId: project.id, payments: 3_000, end, days: 12 });
  q = { db, projectId: project.id, range: { from: end - 10 * DAY_MS, to: end }, timeZone: "UTC", now: end + DAY_MS, currency: "USD" };
}, 60_000);
afterAll(() => {
  instance.close();
  data.remove();
});


/** Callers order currencies as they show them; compare sums whatever order they came in. */
function inCurrencyOrder(sums: ReturnType<typeof rollupSums>) {
  for (const entry of sums.values()) {
    entry.byCurrency.sort((a, b) => a.currency.localeCompare(b.currency));
    entry.unconvertedByCurrency.sort((a, b) => a.currency.localeCompare(b.currency));
  }
  return sums;
}

describe("day-folded rollups", () => {
  test("totals and revenue equal the hourly rollups summed directly", () => {
    const { db, projectId, range } = q;
    expect(traffic(q)).toEqual(trafficTotals(db, projectId, range));
    expect(traffic({ ...q, filter: { source: "twitter" } })).toEqual(trafficTotals(db, projectId, range, { source: "twitter" }));
    expect(revenue(q, "USD")).toEqual(revenueTotals(db, projectId, range, {}, "USD"));
    expect(revenue({ ...q, filter: { campaign: "campaign_3" } }, "USD")).toEqual(revenueTotals(db, projectId, range, { campaign: "campaign_3" }, "USD"));
  });

  test("a project in another time zone folds its local days from the hourly rows, with the same totals", () => {
    const berlin = { ...q, timeZone: "Europe/Berlin", range: { from: Date.UTC(2026, 10, 8, 23), to: Date.UTC(2026, 10, 18, 23) } };
    expect(traffic(berlin)).toEqual(trafficTotals(q.db, q.projectId, berlin.range));
    expect(revenue(berlin, "USD")).toEqual(revenueTotals(q.db, q.projectId, berlin.range, {}, "USD"));
    expect(trafficSeries(berlin).map((r) => r.hour)).toEqual(Array.from({ length: 10 }, (_, i) => berlin.range.from + i * DAY_MS));
  });

  test("series have one row per day whose sum is the total", () => {
    const series = trafficSeries(q);
    expect(series.map((r) => r.hour)).toEqual(Array.from({ length: 10 }, (_, i) => q.range.from + i * DAY_MS));
    expect(series.reduce((n, r) => n + r.clicks, 0)).toBe(traffic(q).clicks);
    const money = revenueSeries(q).filter((r) => r.currency === "USD");
    expect(money.reduce((n, r) => n + r.net, 0)).toBe(revenue(q, "USD").find((r) => r.currency === "USD")!.net);
  });

  test("a late payment in a closed day shows up once the folded day is stale", () => {
    const before = revenue(q, "USD").find((r) => r.currency === "USD")!;
    q.db
      .query(
        `INSERT INTO payment_stats_hourly (project_id, hour, model, currency, payments, revenue, refunds) VALUES (?, ?, 'last', 'USD', 1, 100000, 0)
         ON CONFLICT DO UPDATE SET payments = payments + 1, revenue = revenue + 100000`,
      )
      .run(q.projectId, q.range.from + 3 * DAY_MS + 5 * HOUR_MS);
    expect(revenue(q, "USD").find((r) => r.currency === "USD")!.revenue).toBe(before.revenue);
    const later = revenue({ ...q, now: q.now + 31 * 60_000 }, "USD").find((r) => r.currency === "USD")!;
    expect(later.revenue).toBe(before.revenue + 100000);
    expect(later.payments).toBe(before.payments + 1);
  });

  test("the attribution sums read from folded days equal the rollup tables, per grouping, filter, model and renewal setting", () => {
    const folding = { timeZone: "UTC", now: q.now };
    const { from, to } = q.range;
    const both = q.db
      .query<{ campaign: string; source: string }, [string]>("SELECT campaign_id AS campaign, source FROM payment_stats_hourly WHERE project_id = ? AND campaign_id <> '' AND source <> '' LIMIT 1")
      .get(q.projectId)!;
    for (const groupBy of [null, ...GROUP_BY]) {
      for (const filter of [{}, { source: "twitter" }, both]) {
        for (const model of ["last", "first"] as const) {
          for (const countRenewals of [true, false]) {
            const query = { groupBy, from, to, filter, model };
            const folded = inCurrencyOrder(rollupSums(q.db, q.projectId, query, countRenewals, folding));
            expect(folded.size).toBeGreaterThan(0);
            expect(folded).toEqual(inCurrencyOrder(rollupSums(q.db, q.projectId, query, countRenewals)));
          }
        }
      }
    }
  });

  test("sums the warm-up keeps ahead are what the rollup tables say, per grouping, and after a write into a past day", async () => {
    const folding = { timeZone: "UTC", now: end - 5 * HOUR_MS };
    const from = end - 9 * DAY_MS;
    const to = folding.now;
    const prime = (groupBy: (typeof GROUP_BY)[number] | null) => primeSums(q.db, q.projectId, { groupBy, from, to }, folding, () => Promise.resolve());
    // Background work never folds a range at once: days not in memory yet wait for the warm-up's folds.
    expect(await prime(null)).toBe(false);
    foldedDays(q.db, q.projectId, from, to, "UTC", folding.now);
    for (const groupBy of [null, ...GROUP_BY]) {
      expect(await prime(groupBy)).toBe(true);
      expect(await prime(groupBy)).toBe(false);
      const query = { groupBy, from, to };
      const primed = inCurrencyOrder(rollupSums(q.db, q.projectId, query, true, folding));
      expect(primed.size).toBeGreaterThan(groupBy ? 1 : 0);
      expect(primed).toEqual(inCurrencyOrder(rollupSums(q.db, q.projectId, query, true)));
    }
    const hour = from + 3 * DAY_MS;
    q.db.query("INSERT INTO payment_stats_hourly (project_id, hour, model, link_id, currency, payments, revenue, reporting_revenue) VALUES (?, ?, 'last', 'lnk_late', 'USD', 1, 700, 700)").run(q.projectId, hour);
    noteWrite(q.db, q.projectId, hour);
    const byLink = { groupBy: "link" as const, from, to };
    const late = rollupSums(q.db, q.projectId, byLink, true, folding).get("lnk_late")!;
    expect(late.reporting.revenue).toBe(700);
    expect(inCurrencyOrder(rollupSums(q.db, q.projectId, byLink, true, folding))).toEqual(inCurrencyOrder(rollupSums(q.db, q.projectId, byLink, true)));
  });

  test("a write noted into a closed day folds that day again at once", () => {
    const folding = { timeZone: "UTC", now: q.now };
    const query = { groupBy: null, from: q.range.from, to: q.range.to };
    const before = rollupSums(q.db, q.projectId, query, true, folding).get("")!;
    const hour = q.range.from + 2 * DAY_MS + 7 * HOUR_MS;
    q.db
      .query(
        `INSERT INTO payment_stats_hourly (project_id, hour, model, currency, payments, revenue, refunds) VALUES (?, ?, 'last', 'USD', 1, 2500, 0)
         ON CONFLICT DO UPDATE SET payments = payments + 1, revenue = revenue + 2500`,
      )
      .run(q.projectId, hour);
    noteWrite(q.db, q.projectId, hour);
    const after = rollupSums(q.db, q.projectId, query, true, folding).get("")!;
    expect(after.reporting.payments).toBe(before.reporting.payments + 1);
    expect(after.byCurrency.find((m) => m.currency === "USD")!.revenue).toBe(before.byCurrency.find((m) => m.currency === "USD")!.revenue + 2500);
  });

  test("days before the project's first data are the same day at each view, until data arrives in them", () => {
    const from = end - 20 * DAY_MS;
    const days = () => foldedDays(q.db, q.projectId, from, end, "UTC", q.now)!;
    const clicks = () => rollupSums(q.db, q.projectId, { groupBy: null, from, to: end }, true, { timeZone: "UTC", now: q.now }).get("")!.clicks;
    const [first, again] = [days(), days()];
    expect(first[0]!.traffic).toEqual([]);
    // Sums kept over a range are keyed by its days' identities: a new empty day each view made them count the range again.
    for (const [i, day] of first.entries()) expect(again[i]).toBe(day);
    const before = clicks();
    const hour = from + 5 * HOUR_MS;
    runJobOnSqlite(q.db, (tx) => recordEvent(tx, { projectId: q.projectId, name: "page_view", ts: hour, context: EMPTY_CONTEXT }));
    runJobOnSqlite(q.db, (tx) => bumpRollup(tx, q.projectId, hour, EMPTY_CONTEXT, { clicks: 3 }));
    noteWrite(q.db, q.projectId, hour);
    expect(days()[0]).not.toBe(first[0]);
    expect(clicks()).toBe(before + 3);
  });

  test("the day still running is read again after ten seconds", () => {
    const today = { ...q, now: end - 2 * HOUR_MS };
    const before = traffic(today).clicks;
    runJobOnSqlite(q.db, (tx) => bumpRollup(tx, q.projectId, end - 3 * HOUR_MS, EMPTY_CONTEXT, { clicks: 7 }));
    expect(traffic({ ...today, now: today.now + 11_000 }).clicks).toBe(before + 7);
  });
});
