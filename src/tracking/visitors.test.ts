import { afterEach, expect, test } from "bun:test";
import { describeOnEngines, twoNodes, type TestDatabase } from "../testing/engines.ts";
import { cachedSalts, cookielessVisitorId, cookielessVisitorIds, loadSalts } from "./visitors.ts";

const open: TestDatabase[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((db) => db.close()));
});


const DAY = 86_400_000;
const MONDAY = Date.UTC(2026, 11, 7, 9);
const visitor = ["prj_a", "203.0.113.9", "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"] as const;

describeOnEngines("cookieless visitor ids", (engine) => {
  test("nodes that first hash on the same day at the same moment share one salt, so a visitor has one id on every node", async () => {
    const [a, b] = await twoNodes(engine, open);
    const [onA, onB] = await Promise.all([loadSalts(a, MONDAY), loadSalts(b, MONDAY + 1)]);
    expect(cookielessVisitorId(onA, ...visitor)).toBe(cookielessVisitorId(onB, ...visitor));
    expect(cookielessVisitorId(onA, ...visitor)).toMatch(/^[0-9a-f]{24}$/);
    // Another visitor, another id.
    expect(cookielessVisitorId(onA, "prj_a", "203.0.113.10", visitor[2])).not.toBe(cookielessVisitorId(onA, ...visitor));
    expect(await a.all("SELECT day FROM visitor_salts")).toEqual([{ day: "2026-12-07" }]);
  });

  test("the next day has a new salt and keeps yesterday's for sessions across midnight; the day after, Monday's is deleted", async () => {
    const [a, b] = await twoNodes(engine, open);
    const monday = await loadSalts(a, MONDAY);
    expect(cachedSalts(a, MONDAY + DAY)).toBeUndefined();
    const tuesday = await loadSalts(b, MONDAY + DAY);
    const [today, yesterday] = cookielessVisitorIds(tuesday, ...visitor);
    expect(today).not.toBe(cookielessVisitorId(monday, ...visitor));
    expect(yesterday).toBe(cookielessVisitorId(monday, ...visitor));
    expect((await loadSalts(a, MONDAY + DAY + 5)).today).toEqual(tuesday.today);
    await loadSalts(a, MONDAY + 2 * DAY);
    const days = await b.all<{ day: string }>("SELECT day FROM visitor_salts ORDER BY day");
    expect(days.map((row) => row.day)).toEqual(["2026-12-08", "2026-12-09"]);
  });
});
