// The journey as write jobs, on both engines: what collect and the redirect queue, run through each
// engine's group commit (on PostgreSQL, batch sums written once per key before COMMIT).
import { afterEach, expect, test } from "bun:test";
import { PostgresWriteQueue } from "../db/postgres/write-queue.ts";
import type { Engine } from "../db/storage/storage.ts";
import { recordClick } from "../links/clicks.ts";
import { createLink } from "../links/service.ts";
import { createProject } from "../projects/service.ts";
import { describeOnEngines, freshDatabase, type TestDatabase } from "../testing/engines.ts";
import { storeHit, type Hit, type Landing } from "./journey.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
// Hours on both sides of a UTC day and month boundary.
const START = Date.UTC(2026, 0, 31, 21, 10);

const open: TestDatabase[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((db) => db.close()));
});

async function setup(engine: Engine) {
  const db = await freshDatabase(engine);
  open.push(db);
  const project = await createProject(db.storage, { name: "Jobs" }, START);
  return { db, projectId: project.id };
}

const noLanding: Landing = { clickId: null, utm: { source: null, medium: null, campaign: null, content: null }, referrerHost: null };

function pageView(projectId: string, visitorId: string, ts: number, more: Partial<Hit> = {}): Hit {
  return {
    projectId,
    ts,
    name: "page_view",
    path: "/",
    props: null,
    visitorIds: [visitorId],
    sessionHint: null,
    landing: noLanding,
    agent: { browser: "Firefox", os: "Linux", device: "desktop" },
    country: "DE",
    isPricingPage: false,
    identify: null,
    ...more,
  };
}

const utm = (source: string, campaign: string): Landing => ({ ...noLanding, utm: { source, medium: "email", campaign, content: null } });

describeOnEngines("the journey as write jobs", (engine) => {
  test("a page view opens a session with its landing context; a later view within the session joins it and keeps that first touch", async () => {
    const { db, projectId } = await setup(engine);
    const first = await db.writes.job((tx) => storeHit(tx, pageView(projectId, "v1", START, { path: "/welcome", landing: utm("newsletter", "spring") })));
    expect(first.context).toMatchObject({ source: "newsletter", medium: "email", campaignId: "spring" });
    const session = await db.storage.get<Record<string, unknown>>("SELECT visitor_id, source, medium, campaign_id, entry_path, country FROM sessions WHERE id = ?", [first.sessionId]);
    expect(session).toEqual({ visitor_id: "v1", source: "newsletter", medium: "email", campaign_id: "spring", entry_path: "/welcome", country: "DE" });

    // Ten minutes on, from another site: still the same session, with its first touch.
    const second = await db.writes.job((tx) => storeHit(tx, pageView(projectId, "v1", START + 10 * 60_000, { path: "/pricing", landing: { ...noLanding, referrerHost: "other.example" } })));
    expect(second.sessionId).toBe(first.sessionId);
    expect(second.context).toEqual(first.context);
    const events = await db.storage.all<{ session_id: string; source: string; path: string }>("SELECT session_id, source, path FROM events WHERE visitor_id = 'v1' ORDER BY ts");
    expect(events).toEqual([
      { session_id: first.sessionId, source: "newsletter", path: "/welcome" },
      { session_id: first.sessionId, source: "newsletter", path: "/pricing" },
    ]);

    // Past the idle time, a new session.
    const later = await db.writes.job((tx) => storeHit(tx, pageView(projectId, "v1", START + 2 * HOUR_MS)));
    expect(later.sessionId).not.toBe(first.sessionId);
    expect((await db.storage.get<{ n: number }>("SELECT count(*) AS n FROM sessions"))!.n).toBe(2);
  });

  test("a link click is adopted by the visit that follows it, under the visitor the landing knows", async () => {
    const { db, projectId } = await setup(engine);
    const link = await createLink(db.storage, projectId, { destinationUrl: "https://site.example/", campaignId: "launch", source: "x", medium: "social" }, START);
    const clickId = "clk_adopted1";
    const activeLink = { linkId: link.linkId, projectId, slug: link.slug, destinationUrl: link.destinationUrl, context: { linkId: link.linkId, campaignId: "launch", source: "x", medium: "social", content: null, leadId: null } };
    await db.writes.job((tx) =>
      recordClick(tx, { clickId, link: activeLink, ts: START, visitorId: "cookieless1", referrerHost: null, agent: { browser: null, os: null, device: "mobile" }, country: null }),
    );
    const stored = await db.writes.job((tx) => storeHit(tx, pageView(projectId, "persisted1", START + 2000, { landing: { ...noLanding, clickId } })));
    expect(stored.context).toMatchObject({ linkId: link.linkId, campaignId: "launch", source: "x", medium: "social" });
    expect(await db.storage.get("SELECT visitor_id FROM clicks WHERE id = ?", [clickId])).toEqual({ visitor_id: "persisted1" });
    expect(await db.storage.all("SELECT name, visitor_id FROM events ORDER BY ts")).toEqual([
      { name: "link_clicked", visitor_id: "persisted1" },
      { name: "page_view", visitor_id: "persisted1" },
    ]);
    expect(await db.storage.get("SELECT click_id, link_id FROM sessions WHERE id = ?", [stored.sessionId])).toEqual({ click_id: clickId, link_id: link.linkId });
    expect(await db.storage.get("SELECT clicks, last_clicked_at FROM link_counters WHERE link_id = ?", [link.linkId])).toEqual({ clicks: 1, last_clicked_at: START });
  });

  test("identify links a visitor to a profile, and the visitor's later hits carry it", async () => {
    const { db, projectId } = await setup(engine);
    const identify = { id: "user_1", email: " Ada@Example.com ", name: "Ada", traits: { plan: "pro", seats: 3 }, trust: "trusted" as const };
    const first = await db.writes.job((tx) => storeHit(tx, pageView(projectId, "v9", START, { identify })));
    expect(first.profileId).toBe("user_1");
    expect(await db.storage.get("SELECT email, name, traits, email_verified FROM profiles WHERE project_id = ? AND id = 'user_1'", [projectId])).toEqual({
      email: "ada@example.com",
      name: "Ada",
      traits: '{"plan":"pro","seats":3}',
      email_verified: 1,
    });
    const again = { id: "user_1", traits: { seats: null, team: "core" }, trust: "trusted" as const };
    await db.writes.job((tx) => storeHit(tx, pageView(projectId, "v9", START + 60_000, { identify: again })));
    expect(await db.storage.get("SELECT traits FROM profiles WHERE id = 'user_1'")).toEqual({ traits: '{"plan":"pro","team":"core"}' });
    const later = await db.writes.job((tx) => storeHit(tx, pageView(projectId, "v9", START + 5 * 60_000)));
    expect(later.profileId).toBe("user_1");
    expect(await db.storage.all("SELECT visitor_id, profile_id, verified FROM profile_visitors")).toEqual([{ visitor_id: "v9", profile_id: "user_1", verified: 1 }]);
    expect(await db.storage.all("SELECT DISTINCT profile_id FROM events")).toEqual([{ profile_id: "user_1" }]);
  });

  test("after many jobs in few batches, the hourly, daily and monthly counters equal a count of the raw journey", async () => {
    const { db, projectId } = await setup(engine);
    const link = await createLink(db.storage, projectId, { destinationUrl: "https://site.example/", source: "x" }, START);
    const activeLink = { linkId: link.linkId, projectId, slug: link.slug, destinationUrl: link.destinationUrl, context: { linkId: link.linkId, campaignId: null, source: "x", medium: null, content: null, leadId: null } };
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const landings = [noLanding, utm("newsletter", "spring"), utm("ads", "summer"), { ...noLanding, referrerHost: "news.example" }];
    const jobs: Promise<unknown>[] = [];
    for (let i = 0; i < 600; i++) {
      const ts = START + Math.floor(random() * 5 * HOUR_MS);
      const visitor = Math.floor(random() * 40);
      const visitorId = `v${visitor}`;
      if (random() < 0.2) {
        const click = { clickId: `clk_${i}`, link: activeLink, ts, visitorId, referrerHost: null, agent: { browser: null, os: null, device: "desktop" }, country: null };
        jobs.push(db.writes.job((tx) => recordClick(tx, click)));
      } else {
        // One landing per visitor: a session that adopted a later context would count under its first.
        const hit = pageView(projectId, visitorId, ts, { landing: landings[visitor % landings.length]!, isPricingPage: random() < 0.3 });
        jobs.push(db.writes.job((tx) => storeHit(tx, hit)));
      }
    }
    await Promise.all(jobs);
    if (db.writes instanceof PostgresWriteQueue) expect(db.writes.commits).toBeLessThanOrEqual(5);

    const counted = new Map<string, Record<string, number>>();
    const count = (period: string, context: Record<string, string | null>, column: string) => {
      const key = [period, context.link_id ?? "", context.campaign_id ?? "", context.source ?? "", context.medium ?? "", context.content ?? "", context.lead_id ?? ""].join("|");
      const row = counted.get(key) ?? {};
      row[column] = (row[column] ?? 0) + 1;
      counted.set(key, row);
    };
    const periodsOf = (ts: number) => {
      const at = new Date(ts);
      return [`hour:${ts - (ts % HOUR_MS)}`, `day:${ts - (ts % DAY_MS)}`, `month:${Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1)}`];
    };
    const columnOf: Record<string, string> = { page_view: "pageviews", pricing_view: "pricing_views", link_clicked: "clicks" };
    const contextColumns = "link_id, campaign_id, source, medium, content, lead_id";
    for (const event of await db.storage.all<{ name: string; ts: number } & Record<string, string | null>>(`SELECT name, ts, ${contextColumns} FROM events`)) {
      for (const period of periodsOf(event.ts)) count(period, event, columnOf[event.name]!);
    }
    for (const session of await db.storage.all<{ started_at: number } & Record<string, string | null>>(`SELECT started_at, ${contextColumns} FROM sessions`)) {
      for (const period of periodsOf(session.started_at)) count(period, session, "sessions");
    }

    const counters = new Map<string, Record<string, number>>();
    const columns = "clicks, sessions, pageviews, pricing_views";
    const keep = (period: string, row: Record<string, string | number>) => {
      const key = [period, row.link_id, row.campaign_id, row.source, row.medium, row.content, row.lead_id].join("|");
      const values: Record<string, number> = {};
      for (const column of columns.split(", ")) if (row[column]) values[column] = row[column] as number;
      counters.set(key, values);
    };
    for (const row of await db.storage.all<Record<string, string | number>>(`SELECT hour, ${contextColumns}, ${columns} FROM context_stats_hourly`)) keep(`hour:${row.hour}`, row);
    for (const row of await db.storage.all<Record<string, string | number>>(`SELECT grain, period, ${contextColumns}, ${columns} FROM context_stats_periods`)) {
      keep(`${row.grain}:${row.period}`, row);
    }
    expect(counted.size).toBeGreaterThan(20);
    expect(Object.fromEntries(counters)).toEqual(Object.fromEntries(counted));

    const clicks = await db.storage.get<{ n: number; last: number }>("SELECT count(*) AS n, max(ts) AS last FROM clicks");
    expect(await db.storage.get("SELECT clicks, last_clicked_at FROM link_counters WHERE link_id = ?", [link.linkId])).toEqual({ clicks: clicks!.n, last_clicked_at: clicks!.last });
  });
});
