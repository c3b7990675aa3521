// After a start, the recent days are folded in the background: the first view reads them from memory.
// SQLite only: its subject is SQLite's warm-up (a year of days folded from the Database, read-ahead of people windows on its connection); PostgreSQL's warm-up is warmup-postgres.test.ts.
import type { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { loadConfig } from "../../config.ts";
import { openInstance, type Instance } from "../../instance.ts";
import { createProject, updateProjectSettings } from "../../projects/service.ts";
import { tempDataDir } from "../../testing/harness.ts";
import { seedJourneys, seedPayments } from "../../../bench/seed-dashboard.ts";
import { revenueTotals } from "./payments.sql.ts";
import { trafficTotals } from "./traffic.sql.ts";
import { revenue, traffic, type RollupQuery } from "./rollups.ts";
import { startFoldWarmer, WARM_DAYS } from "./warmup.ts";
import { TOP_TABLE_BREAKDOWNS } from "./overview.ts";
import { DAY_MS, HOUR_MS } from "./time.ts";
import { openDatabase } from "../../db/database.ts";
import { funnel, keptAhead, peopleByAttribution, peopleByTraffic, peopleQuery, peopleTotals, trackedSteps, type ContextFilter } from "../../reports/people/index.ts";
import { parseRange } from "../range.ts";
import { sqliteStorage } from "../../db/storage/sqlite.ts";

const data = tempDataDir("bantico-warmup");
const end = Date.UTC(2026, 10, 20);
let clock = end + 12 * HOUR_MS;
let instance: Instance;
let berlin: RollupQuery<Database>;

beforeAll(async () => {
  instance = openInstance(loadConfig({ BANTICO_DATA_DIR: data.dir, PORT: "0" }), { now: () => clock });
  const db = instance.ctx.db;
  // The seeder fills one project: the other, in UTC, has no data but is warmed all the same.
  await createProject(sqliteStorage(db), { name: "Quiet" });
  const project = await createProject(sqliteStorage(db), { name: "Berlin" });
  await updateProjectSettings(sqliteStorage(db), project.id, { timezone: "Europe/Berlin" });
  seedJourneys(db, { projectId: project.id, events: 30_000, end, days: 12, links: 20 });
  seedPayments(db, { projectId: project.id, payments: 2_000, end, days: 12 });
  berlin = { db, projectId: project.id, range: { from: Date.UTC(2026, 10, 8, 23), to: Date.UTC(2026, 10, 18, 23) }, timeZone: "Europe/Berlin", now: clock, currency: "USD" };
}, 60_000);
afterAll(() => {
  instance.close();
  data.remove();
});

const usd = (rows: { currency: string; revenue: number; payments: number }[]) => rows.find((r) => r.currency === "USD")!;
const latePayment = (q: RollupQuery<Database>, hour: number) =>
  q.db
    .query(
      `INSERT INTO payment_stats_hourly (project_id, hour, model, currency, payments, revenue, refunds) VALUES (?, ?, 'last', 'USD', 1, 100000, 0)
       ON CONFLICT DO UPDATE SET payments = payments + 1, revenue = revenue + 100000`,
    )
    .run(q.projectId, hour);

describe("fold warm-up after a start", () => {
  test("the first view after a start is served from the warmed days, with the same figures as the hourly rollups", async () => {
    const direct = {
      berlinAll: trafficTotals(berlin.db, berlin.projectId, berlin.range),
      berlinTraffic: trafficTotals(berlin.db, berlin.projectId, berlin.range, { source: "twitter" }),
      berlinRevenue: revenueTotals(berlin.db, berlin.projectId, berlin.range, {}, "USD"),
    };
    const warmer = startFoldWarmer(instance.ctx, 10);
    try {
      // The pages say how far the first pass has come while it runs.
      for (let i = 0; i < 500 && !warmer.progress; i++) await Bun.sleep(1);
      expect(warmer.progress).toMatchObject({ total: 2 * WARM_DAYS });
      expect(warmer.progress!.done).toBeLessThanOrEqual(2 * WARM_DAYS);
      const stats = await warmer.ready;
      expect(warmer.progress).toBeNull();
      // Every closed day since the data began: the twelve seeded days; nothing for the quiet project.
      expect(stats.days).toBe(12);
      // Changed behind the fold's back: a view that read the database would see it; the warmed fold does not.
      latePayment(berlin, berlin.range.from + 2 * DAY_MS);
      expect(traffic(berlin)).toEqual(direct.berlinAll);
      expect(traffic({ ...berlin, filter: { source: "twitter" } })).toEqual(direct.berlinTraffic);
      expect(revenue(berlin, "USD")).toEqual(direct.berlinRevenue);
    } finally {
      await warmer.stop();
    }
  });

  test("the warmer refolds days before they go stale, so a late payment shows without a view paying for the fold", async () => {
    const before = usd(revenue(berlin, "USD"));
    const warmer = startFoldWarmer(instance.ctx, 10);
    try {
      await warmer.ready;
      latePayment(berlin, berlin.range.from + 4 * DAY_MS + 3 * HOUR_MS);
      // Sixteen minutes on: the folds are not stale yet, but within the warmer's refresh margin.
      clock += 16 * 60_000;
      const later = { ...berlin, now: clock };
      for (let i = 0; i < 3000 && usd(revenue(later, "USD")).payments !== before.payments + 2; i++) await Bun.sleep(10);
      // The one from the previous test and this one.
      expect(usd(revenue(later, "USD")).payments).toBe(before.payments + 2);
      expect(usd(revenue(later, "USD")).revenue).toBe(before.revenue + 200000);
    } finally {
      await warmer.stop();
    }
  });

  test("in the first hour after midnight, yesterday is counted at each view, and its pages are read ahead all the same", async () => {
    const { db, projectId } = berlin;
    const saved = clock;
    // 00:30 in Berlin on the day after the seeded days: yesterday still takes late events.
    clock = Date.UTC(2026, 10, 19, 23, 30);
    const yesterday = { from: Date.UTC(2026, 10, 18, 23), to: Date.UTC(2026, 10, 19, 23) };
    const pagesReport = (on: typeof db) =>
      peopleByTraffic(peopleQuery({ db: on, projectId, from: berlin.range.from, to: clock, timeZone: "Europe/Berlin", now: clock }), { kind: "page" });
    // Counted on a connection of its own, whose windows are read apart from the warmer's.
    const apart = openDatabase(db.filename);
    const expected = pagesReport(apart);
    apart.close();
    expect(expected.size).toBeGreaterThan(1);
    const warmer = startFoldWarmer(instance.ctx, 10);
    try {
      await warmer.ready;
      // Gone behind the warm-up's back: a view that read yesterday's page views only now would miss them.
      const gone = db.query("DELETE FROM events WHERE project_id = ? AND name = 'page_view' AND ts >= ? AND ts < ?").run(projectId, yesterday.from, yesterday.to);
      expect(gone.changes).toBeGreaterThan(0);
      expect(pagesReport(db)).toEqual(expected);
    } finally {
      await warmer.stop();
      clock = saved;
    }
  });

  test("a year's funnel and overview filtered on a value with a fifth of the visitors or more are counted ahead; a smaller value's at its first view", async () => {
    const { db, projectId } = berlin;
    const year = parseRange(new URLSearchParams({ range: "365d" }), "Europe/Berlin", clock);
    const yearQuery = (filter?: ContextFilter) => peopleQuery({ db, projectId, from: year.from, to: year.to, timeZone: "Europe/Berlin", now: clock, filter });
    const tracked = trackedSteps(db, projectId);
    const warmer = startFoldWarmer(instance.ctx, 10);
    try {
      await warmer.ready;
      const visitors = peopleTotals(yearQuery()).visitors;
      const sources = [...peopleByAttribution(yearQuery(), "source")].filter(([value]) => value !== "").sort((a, b) => b[1].visitors - a[1].visitors);
      const [large, largeCounts] = sources[0]!;
      const [small, smallCounts] = sources.at(-1)!;
      expect(largeCounts.visitors).toBeGreaterThanOrEqual(0.2 * visitors);
      expect(smallCounts.visitors).toBeLessThan(0.2 * visitors);
      const ahead = (filter: ContextFilter) => [
        keptAhead(yearQuery(filter), { funnel: tracked }),
        keptAhead(yearQuery(filter), { attribution: null }),
        ...TOP_TABLE_BREAKDOWNS.attribution.map((dimension) => keptAhead(yearQuery(filter), { attribution: dimension })),
        ...TOP_TABLE_BREAKDOWNS.traffic.map((breakdown) => keptAhead(yearQuery(filter), { traffic: breakdown })),
      ];
      expect(ahead({ source: large })).toEqual([true, true, true, true, true, true]);
      expect(ahead({ source: small })).toEqual([false, false, false, false, false, false]);
      // Counted ahead or at the view, the same steps as counting over every window at once.
      const counted = funnel(yearQuery({ source: large }), tracked);
      expect(counted).toEqual(funnel({ ...yearQuery({ source: large }), openFrom: Infinity }, tracked));
      expect(counted[1]!.people).toBeGreaterThan(0);
    } finally {
      await warmer.stop();
    }
  });
});
