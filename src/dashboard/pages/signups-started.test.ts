// The funnel's started signups, summed from the rollups the write jobs keep, equal a direct count of the recorded
// events: over folded days and over a single day's hourly rows, filtered or not, on the engine the tests run on.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createProject, type Project } from "../../projects/service.ts";
import { testEngine } from "../../testing/harness.ts";
import { freshDatabase, type TestDatabase } from "../../testing/engines.ts";
import { EMPTY_CONTEXT } from "../../tracking/attribution-context.ts";
import { recordEvent } from "../../tracking/events.ts";
import { primeRollups, traffic, type RollupQuery } from "./rollups.ts";
import { DAY_MS } from "./time.ts";

const end = Date.UTC(2026, 10, 20);
let db: TestDatabase;
let project: Project;

beforeAll(async () => {
  db = await freshDatabase(testEngine());
  project = await createProject(db.storage, { name: "Signups" }, end - 20 * DAY_MS);
  const contexts = [EMPTY_CONTEXT, { ...EMPTY_CONTEXT, campaignId: "spring", source: "twitter" }, { ...EMPTY_CONTEXT, source: "newsletter" }];
  const writes: Promise<number>[] = [];
  for (let i = 0; i < 600; i++) {
    writes.push(db.writes.job((tx) => recordEvent(tx, { projectId: project.id, name: "signup_started", ts: end - 12 * DAY_MS + i * 41 * 60_000, context: contexts[i % 3] })));
    writes.push(db.writes.job((tx) => recordEvent(tx, { projectId: project.id, name: "page_view", ts: end - 12 * DAY_MS + i * 37 * 60_000, context: contexts[i % 2] })));
  }
  await Promise.all(writes);
  await db.settle();
}, 60_000);
afterAll(() => db.close());

async function signupsStarted(q: RollupQuery): Promise<number> {
  await primeRollups(q);
  return traffic(q).signupsStarted;
}

test("the funnel's started signups per range and filter equal a direct count of the recorded events", async () => {
  const signups: RollupQuery = { db: db.reports, projectId: project.id, range: { from: end - 10 * DAY_MS, to: end }, timeZone: "UTC", now: end + DAY_MS, currency: "USD" };
  const direct = async ({ from, to }: { from: number; to: number }, where = "", ...params: string[]) =>
    (await db.storage.get<{ n: number }>(`SELECT count(*) AS n FROM events WHERE project_id = ? AND ts >= ? AND ts < ? AND name = 'signup_started' ${where}`, [project.id, from, to, ...params]))!.n;
  expect(await signupsStarted(signups)).toBe(await direct(signups.range));
  expect(await signupsStarted(signups)).toBeGreaterThan(0);
  expect(await signupsStarted({ ...signups, filter: { campaign: "spring" } })).toBe(await direct(signups.range, "AND campaign_id = ?", "spring"));
  const short = { ...signups, range: { from: signups.range.to - DAY_MS, to: signups.range.to } };
  expect(await signupsStarted(short)).toBe(await direct(short.range));
});
