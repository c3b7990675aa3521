// On PostgreSQL the warm-up reads ahead what the 30-day views' primes read: after it, a 30-day page's
// prime reads nothing that ended before the current hour (only that hour, today's fold and the first
// activity), its people counts over the past days are kept, and every figure is the one a node that
// primes for itself computes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { loadConfig } from "../../config.ts";
import { openAnyInstance, openInstance, type Instance } from "../../instance.ts";
import { createProject, listProjects, updateProjectSettings, type Project } from "../../projects/service.ts";
import { postgresNodeEnv, tempDataDir } from "../../testing/harness.ts";
import { freshPostgresDatabase } from "../../testing/postgres.ts";
import { seedJourneys, seedPayments } from "../../../bench/seed-dashboard.ts";
import { databasePath } from "../../db/database.ts";
import { migrateTo } from "../../db/migrate-to/index.ts";
import { sqliteStorage } from "../../db/storage/sqlite.ts";
import type { Storage } from "../../db/storage/storage.ts";
import { PostgresReports } from "../../reports/source.ts";
import { funnel, keptAhead, peopleByAttribution, peopleByTraffic, peopleQuery, peopleTotals, trackedStepsFrom, ATTRIBUTION_DIMENSIONS } from "../../reports/people/index.ts";
import { parseRange } from "../range.ts";
import { previous, primeRollups, revenue, traffic, trafficSeries, type RollupQuery } from "./rollups.ts";
import { foldWarmer, POSTGRES_WARM_DAYS, startFoldWarmer } from "./warmup.ts";
import { HOUR_MS } from "./time.ts";
import type { DashboardRequest } from "../routing.ts";

const data = tempDataDir("bantico-warmup-pg");
const end = Date.UTC(2026, 10, 20);
// 12:20 in Berlin: today's morning hours are closed (long enough for no other node to write into them), the current one open.
const clock = end + 11 * HOUR_MS + 20 * 60_000;
const currentHour = Math.floor(clock / HOUR_MS) * HOUR_MS;
let instance: Instance;
let project: Project;

beforeAll(async () => {
  // Seeded on SQLite (the bench's seeder), then copied into PostgreSQL as `bantico migrate-to` does.
  const seeding = openInstance(loadConfig({ BANTICO_DATA_DIR: data.dir, PORT: "0" }));
  const storage = sqliteStorage(seeding.ctx.db);
  await createProject(storage, { name: "Quiet" });
  const berlin = await createProject(storage, { name: "Berlin" });
  await updateProjectSettings(storage, berlin.id, { timezone: "Europe/Berlin" });
  seedJourneys(seeding.ctx.db, { projectId: berlin.id, events: 30_000, end, days: 70, links: 20 });
  seedPayments(seeding.ctx.db, { projectId: berlin.id, payments: 2_000, end, days: 70 });
  seeding.close();
  const url = await freshPostgresDatabase();
  await migrateTo({ sqlitePath: databasePath(data.dir), postgresUrl: url });
  instance = await openAnyInstance(loadConfig({ BANTICO_DATA_DIR: data.dir, ...postgresNodeEnv(url), PORT: "0" }), { now: () => clock });
  project = (await listProjects(instance.ctx.storage)).find((p) => p.name === "Berlin")!;
}, 120_000);
afterAll(async () => {
  await instance?.close();
  data.remove();
});

/** The same storage, noting every read's text and parameters. */
function recording(storage: Storage): { storage: Storage; reads: { sql: string; params: unknown[] }[] } {
  const reads: { sql: string; params: unknown[] }[] = [];
  const proxy = new Proxy(storage, {
    get(target, key) {
      const value = Reflect.get(target, key) as unknown;
      if (typeof value !== "function") return value;
      if (key !== "all" && key !== "get") return value.bind(target);
      return (sql: string, params: unknown[] = []) => {
        reads.push({ sql, params });
        return value.call(target, sql, params);
      };
    },
  });
  return { storage: proxy, reads };
}

const byKey = (a: [string, unknown], b: [string, unknown]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/** The overview's reads for the default 30 days: its range with series, and the period before. */
async function overviewOf(db: PostgresReports) {
  const range = parseRange(new URLSearchParams(), project.timezone, clock);
  const q: RollupQuery = { db, projectId: project.id, range, timeZone: project.timezone, now: clock, currency: "USD" };
  const before = previous(q, { range } as DashboardRequest);
  await Promise.all([primeRollups(q), primeRollups(before, { series: false })]);
  const people = peopleQuery({ db, projectId: project.id, from: range.from, to: range.to, timeZone: project.timezone, now: clock });
  const tracked = await trackedStepsFrom(db.storage, project.id);
  return {
    q,
    people,
    tracked,
    figures: {
      traffic: traffic(q),
      series: trafficSeries(q),
      revenue: revenue(q, "USD"),
      before: traffic(before),
      totals: peopleTotals(people),
      // In key order: the order the values were met in depends on how the windows were read.
      bySource: [...peopleByAttribution(people, "source")].sort(byKey),
      byReferrer: [...peopleByTraffic(people, { kind: "visit", dimension: "referrer" })].sort(byKey),
      funnel: funnel(people, tracked),
    },
  };
}

describe("fold warm-up on PostgreSQL", () => {
  test("after it, a 30-day page's prime reads only the current hour, today's fold and the first activity, and counts from what the warm-up kept", async () => {
    const warmer = startFoldWarmer(instance.ctx, 60_000);
    try {
      expect(foldWarmer(instance.ctx)).toBe(warmer);
      for (let i = 0; i < 500 && !warmer.progress; i++) await Bun.sleep(1);
      // Two projects, each the 30 days and the 30 before.
      expect(warmer.progress).toMatchObject({ total: 2 * POSTGRES_WARM_DAYS });
      const stats = await warmer.ready;
      expect(stats.days).toBe(POSTGRES_WARM_DAYS);
      // A page on this node, through a storage that notes what it reads (the memory is keyed by the node's notes).
      const { storage, reads } = recording(instance.ctx.storage);
      const warm = await overviewOf(new PostgresReports(storage, instance.ctx.reportNotes!));
      const ranges = reads.filter((r) => typeof r.params[1] === "number" && typeof r.params[2] === "number");
      expect(ranges.length).toBeGreaterThan(0);
      expect(ranges.filter((r) => (r.params[2] as number) <= currentHour)).toEqual([]);
      expect(reads.filter((r) => r.sql.includes("profile_visitors"))).toEqual([]);
      // The people counts over the days before today were counted ahead, for every report of the range.
      const { people, tracked } = warm;
      expect(keptAhead(people, { attribution: null })).toBe(true);
      for (const dimension of ATTRIBUTION_DIMENSIONS) expect(keptAhead(people, { attribution: dimension })).toBe(true);
      expect(keptAhead(people, { traffic: { kind: "page" } })).toBe(true);
      expect(keptAhead(people, { traffic: { kind: "visit", dimension: "country" } })).toBe(true);
      expect(keptAhead(people, { funnel: tracked })).toBe(true);
      // The same figures as a node that warmed nothing and primes for itself (its own notes, its own memory).
      const cold = await overviewOf(new PostgresReports(instance.ctx.storage, {}));
      expect(warm.figures).toEqual(cold.figures);
      expect(warm.figures.totals.visitors).toBeGreaterThan(0);
      expect(warm.figures.bySource.length).toBeGreaterThan(1);
    } finally {
      await warmer.stop();
    }
  }, 120_000);
});
