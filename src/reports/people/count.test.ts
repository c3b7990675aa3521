// People counts against a brute-force count over the raw rows, on generated journeys in a fresh database
// on the test engine: every breakdown, several ranges, and conversion never above 100 %.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { JobQueue } from "../../db/storage/jobs.ts";
import type { Storage } from "../../db/storage/storage.ts";
import { createProject, type Project } from "../../projects/service.ts";
import { freshDatabase, type TestDatabase } from "../../testing/engines.ts";
import { testEngine } from "../../testing/harness.ts";
import { seedLink } from "../../payments/testing.ts";
import { recordPayment } from "../../payments/ledger.ts";
import { emptyPayment } from "../../payments/types.ts";
import { recordEvent } from "../../tracking/events.ts";
import { identifyProfile } from "../../tracking/profiles.ts";
import { attributionOn, GROUP_BY, GROUP_BY_COLUMN } from "../attribution.ts";
import { primeReport } from "../prime.ts";
import { PostgresReports } from "../source.ts";
import { summaryOn } from "../summary.ts";
import { DistinctCounter, EXACT_LIMIT, HashMap, HashSet, hashId } from "./distinct.ts";
import { mergeWindows, profileHash, readPersons, readPersonsFrom, readWindow, readWindowFrom, type PeopleWindow } from "./window.ts";
import { primePersons } from "./windows.ts";
import { FUNNEL_STEPS, funnel, peopleByAttribution, peopleByTraffic, peopleTotals, primePeople, visitorsPerBucket } from "./count.ts";
import { ATTRIBUTION_DIMENSIONS, VISIT_DIMENSIONS, contextTest, peopleQuery, personOf, warmPersons, type PeopleRange } from "./index.ts";
import { random } from "../../../bench/seed-dashboard.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const START = Date.UTC(2026, 8, 1);
const DAYS = 40;
const NOW = START + DAYS * DAY;

let database: TestDatabase;
let project: Project;

const CAMPAIGNS = ["alpha", "beta", "gamma"];
const SOURCES = ["twitter", "newsletter", "hn", "google"];

/** Journeys: visitors coming back over days through links or utm tags, some identifying (a few on two devices), some buying. */
async function generate(storage: Storage, writes: JobQueue, projectId: string, seed: number): Promise<void> {
  const rnd = random(seed);
  const pick = <T>(items: T[]) => items[Math.floor(rnd() * items.length)]!;
  const links = Array.from({ length: 6 }, (_, i) => {
    const id = `lnk_gen${seed}_${i}`;
    return { linkId: id, campaignId: CAMPAIGNS[i % 3]!, source: SOURCES[i % 4]!, medium: null, content: null, leadId: null };
  });
  for (const link of links) await seedLink(storage, projectId, { id: link.linkId, campaignId: link.campaignId, source: link.source });
  // Queued all at once, committed in order by the group commit.
  const written: Promise<unknown>[] = [];
  const write: JobQueue["job"] = (job) => {
    const done = writes.job(job);
    written.push(done);
    return done;
  };
  for (let v = 0; v < 260; v++) {
    const visitorId = `gen${seed}_visitor_${v}`;
    const visits = 1 + Math.floor(rnd() * 4);
    let lastAt = 0;
    for (let k = 0; k < visits; k++) {
      const at = START + Math.floor(rnd() * DAYS * DAY);
      lastAt = Math.max(lastAt, at);
      const roll = rnd();
      const context =
        roll < 0.4
          ? pick(links)
          : roll < 0.7
            ? { linkId: null, campaignId: pick(CAMPAIGNS), source: pick(SOURCES), medium: null, content: null, leadId: null }
            : { linkId: null, campaignId: null, source: null, medium: null, content: null, leadId: null };
      const sessionId = `ses_gen${seed}_${v}_${k}`;
      const session = [sessionId, projectId, visitorId, at, at + 600_000, context.linkId, context.campaignId, context.source, pick(["DE", "FR", "US", null]), pick(["desktop", "mobile"])];
      write((tx) => tx.run("INSERT INTO sessions (id, project_id, visitor_id, started_at, last_seen_at, link_id, campaign_id, source, country, device) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", session));
      if (context.linkId) write((tx) => recordEvent(tx, { projectId, name: "link_clicked", ts: at - 1000, visitorId, context }));
      const views = 1 + Math.floor(rnd() * 3);
      for (let p = 0; p < views; p++) {
        const path = pick(["/", "/pricing", "/docs"]);
        write((tx) => recordEvent(tx, { projectId, name: "page_view", ts: at + p * 60_000, visitorId, sessionId, path, context }));
      }
      if (rnd() < 0.2) write((tx) => recordEvent(tx, { projectId, name: "signup_completed", ts: at + 300_000, visitorId, sessionId, context }));
    }
    if (rnd() < 0.15) write((tx) => identifyProfile(tx, projectId, { id: `gen${seed}_user_${v % 200}`, email: `user${v % 200}@gen${seed}.example` }, visitorId, lastAt, "trusted"));
  }
  for (let n = 0; n < 90; n++) {
    const v = Math.floor(rnd() * 260);
    const at = START + Math.floor(rnd() * DAYS * DAY);
    const metadata: Record<string, string> = rnd() < 0.5 ? { visitorId: `gen${seed}_visitor_${v}` } : rnd() < 0.5 ? { linkId: pick(links).linkId } : {};
    const email = rnd() < 0.5 ? `user${v % 200}@gen${seed}.example` : null;
    write((tx) => recordPayment(tx, projectId, { ...emptyPayment("api"), kind: "sale", key: `api:gen${seed}_${n}`, amount: 1000 + n, tax: 0, currency: "USD", metadata, email, occurredAt: at }, null, at));
  }
  await Promise.all(written);
}

interface Expected {
  visitors: number;
  customers: number;
  conversionRate: number;
}

/** The same numbers by brute force: plain SQL over the raw rows and sets of ids, no sketches, no windows. */
async function bruteForce(storage: Storage, projectId: string, from: number, to: number, column: string | null): Promise<Map<string, Expected>> {
  const personOf = new Map<string, string>();
  for (const r of await storage.all<{ v: string; p: string }>("SELECT visitor_id AS v, profile_id AS p FROM profile_visitors WHERE project_id = ? ORDER BY identified_at", [projectId])) personOf.set(r.v, `profile:${r.p}`);
  const keyOf = (row: Record<string, string | null>) => (column ? (row[column] ?? "") : "");
  const visitors = new Map<string, Set<string>>();
  const people = new Map<string, Set<string>>();
  const add = (map: Map<string, Set<string>>, key: string, id: string) => (map.get(key) ?? map.set(key, new Set()).get(key)!).add(id);
  for (const e of await storage.all<Record<string, string | null>>(
    "SELECT * FROM events WHERE project_id = ? AND ts >= ? AND ts < ? AND visitor_id IS NOT NULL AND name <> 'payment_completed'",
    [projectId, from, to],
  )) {
    add(visitors, keyOf(e), e.visitor_id!);
    add(people, keyOf(e), personOf.get(e.visitor_id!) ?? e.visitor_id!);
  }
  const customers = new Map<string, Set<string>>();
  for (const p of await storage.all<Record<string, string | null>>(
    `SELECT p.*, (SELECT min(id) FROM profiles pe WHERE pe.project_id = p.project_id AND pe.email = p.customer_email) AS email_profile
     FROM payments p WHERE project_id = ? AND occurred_at >= ? AND occurred_at < ? AND kind = 'sale'`,
    [projectId, from, to],
  )) {
    const person = p.profile_id
      ? `profile:${p.profile_id}`
      : p.visitor_id
        ? (personOf.get(p.visitor_id) ?? p.visitor_id)
        : p.email_profile
          ? `profile:${p.email_profile}`
          : (p.customer_email ?? p.id!);
    add(customers, keyOf(p), person);
  }
  const out = new Map<string, Expected>();
  for (const key of new Set([...visitors.keys(), ...customers.keys()])) {
    const visiting = people.get(key) ?? new Set();
    const buying = customers.get(key) ?? new Set();
    const converted = [...visiting].filter((person) => buying.has(person)).length;
    out.set(key, { visitors: visitors.get(key)?.size ?? 0, customers: buying.size, conversionRate: visiting.size ? converted / visiting.size : 0 });
  }
  return out;
}

beforeAll(async () => {
  database = await freshDatabase(testEngine());
  project = await createProject(database.storage, { name: "Generated" });
  await generate(database.storage, database.writes, project.id, 7);
  await database.settle();
}, 60_000);
afterAll(() => database.close());

/** A people query as a report makes it: on PostgreSQL after the report's prime has read its windows and persons into memory. */
async function primedQuery(range: Omit<PeopleRange, "db">) {
  const { reports } = database;
  if (reports instanceof PostgresReports) await primeReport(reports, range, [], { pages: true });
  return peopleQuery({ ...range, db: reports });
}

/** The window [start, end) as each engine's reports read it (on PostgreSQL through the storage), its pages viewed ready. */
async function readWindowOn(start: number, end: number): Promise<PeopleWindow> {
  const { reports, storage } = database;
  if (!(reports instanceof PostgresReports)) return readWindow(reports, project.id, start, end);
  const window = await readWindowFrom(storage, project.id, start, end);
  await window.pages.prime(storage);
  return window;
}

describe("people counts match a brute-force count over raw events", () => {
  const rnd = random(99);
  const ranges = [
    [START, NOW],
    [START + 10 * DAY, START + 17 * DAY],
    [NOW - DAY, NOW],
    [START + 3 * DAY + 5 * HOUR, START + 4 * DAY + 2 * HOUR],
    ...Array.from({ length: 4 }, () => {
      const a = START + Math.floor(rnd() * DAYS) * DAY;
      return [a, a + (1 + Math.floor(rnd() * 20)) * DAY];
    }),
  ];
  for (const [from, to] of ranges) {
    test(`${new Date(from!).toISOString()} to ${new Date(to!).toISOString()}`, async () => {
      const { storage, reports } = database;
      const total = (await bruteForce(storage, project.id, from!, to!, null)).get("") ?? { visitors: 0, customers: 0, conversionRate: 0 };
      const summary = await summaryOn(reports, project, { from: from!, to: to! }, NOW);
      expect({ visitors: summary.visitors, customers: summary.customers, conversionRate: summary.conversionRate }).toEqual(total);
      for (const groupBy of GROUP_BY) {
        const expected = await bruteForce(storage, project.id, from!, to!, GROUP_BY_COLUMN[groupBy]);
        const rows = await attributionOn(reports, project, { groupBy, from: from!, to: to! }, NOW);
        for (const row of rows) {
          expect(row.conversionRate).toBeGreaterThanOrEqual(0);
          expect(row.conversionRate).toBeLessThanOrEqual(1);
          const want = expected.get(row.key ?? "") ?? { visitors: 0, customers: 0, conversionRate: 0 };
          expect({ key: row.key, visitors: row.visitors, customers: row.customers, conversionRate: row.conversionRate }).toEqual({ key: row.key, ...want });
        }
        // Every key the brute force sees with people has its row.
        const keys = new Set(rows.map((r) => r.key ?? ""));
        for (const [key, want] of expected) if (want.visitors || want.customers) expect(keys.has(key)).toBe(true);
      }
    });
  }
});

describe("a day read in two-hour parts", () => {
  test("counts the same as the day read at once", async () => {
    const personOf = Object.assign((v: number) => v, { size: 0 });
    for (let day = 5; day < 12; day++) {
      const start = START + day * DAY;
      const parts = await Promise.all(Array.from({ length: 12 }, (_, i) => readWindowOn(start + i * 2 * HOUR, start + (i + 1) * 2 * HOUR)));
      const query = (window: PeopleWindow) => ({ windows: [window], personOf, filter: null, model: "last" as const, convert: (m: { net: number }) => m.net, key: `merge-test|${window.id}`, openFrom: window.end, single: null });
      const whole = query(await readWindowOn(start, start + DAY));
      const merged = query(mergeWindows(parts));
      if (database.reports instanceof PostgresReports) await merged.windows[0]!.pages.prime(database.storage);
      expect(peopleTotals(merged)).toEqual(peopleTotals(whole));
      expect(peopleByAttribution(merged, "campaign")).toEqual(peopleByAttribution(whole, "campaign"));
      expect(peopleByTraffic(merged, { kind: "page" })).toEqual(peopleByTraffic(whole, { kind: "page" }));
      expect(funnel(merged, new Set(FUNNEL_STEPS))).toEqual(funnel(whole, new Set(FUNNEL_STEPS)));
    }
  });
});

describe("counts kept over closed windows and extended with the open ones", () => {
  test("equal the counts over every window at once, wherever the cut falls, filtered or not, by either model", async () => {
    const range = { projectId: project.id, from: START, to: NOW, timeZone: "UTC", now: NOW };
    for (const variant of [{}, { filter: { source: "twitter" } }, { model: "first" as const }]) {
      const base = { ...(await primedQuery({ ...range, ...variant })), filter: contextTest(variant.filter) };
      for (const cut of [START + 3 * DAY, START + 20 * DAY + 5 * HOUR, NOW - DAY]) {
        const whole = { ...base, key: `whole|${JSON.stringify(variant)}|${cut}`, openFrom: Infinity };
        const kept = { ...base, key: `kept|${JSON.stringify(variant)}|${cut}`, openFrom: cut };
        expect(kept.windows.some((w) => w.end <= cut) && kept.windows.some((w) => w.end > cut)).toBe(true);
        expect(peopleTotals(kept)).toEqual(peopleTotals(whole));
        for (const dimension of ATTRIBUTION_DIMENSIONS) expect(peopleByAttribution(kept, dimension)).toEqual(peopleByAttribution(whole, dimension));
        for (const dimension of VISIT_DIMENSIONS) expect(peopleByTraffic(kept, { kind: "visit", dimension })).toEqual(peopleByTraffic(whole, { kind: "visit", dimension }));
        expect(peopleByTraffic(kept, { kind: "page" })).toEqual(peopleByTraffic(whole, { kind: "page" }));
        const bucketOf = (w: PeopleWindow) => Math.floor((w.start - START) / (5 * DAY));
        expect(visitorsPerBucket(kept, 8, bucketOf)).toEqual(visitorsPerBucket(whole, 8, bucketOf));
        for (const tracked of [new Set(FUNNEL_STEPS), new Set(FUNNEL_STEPS.filter((step) => step !== "signup_started" && step !== "page_view"))]) {
          expect(funnel(kept, tracked)).toEqual(funnel(whole, tracked));
        }
      }
    }
  });

  test("a range extended by later writes gives what counting at once gives: people new since the last view are looked up in the kept windows", async () => {
    const cut = NOW - 5 * DAY;
    for (const variant of [{}, { filter: { campaign: "beta" } }]) {
      const views = [];
      for (const to of [NOW - 3 * DAY - 7 * HOUR, NOW - DAY, NOW]) views.push({ ...(await primedQuery({ projectId: project.id, from: START, to, timeZone: "UTC", now: NOW, ...variant })), filter: contextTest(variant.filter) });
      const customersAfterCut = async (to: number) =>
        (await database.storage.get<{ n: number }>("SELECT count(*) AS n FROM payments WHERE project_id = ? AND kind = 'sale' AND occurred_at >= ? AND occurred_at < ?", [project.id, cut, to]))!.n;
      expect(await customersAfterCut(NOW)).toBeGreaterThan(await customersAfterCut(NOW - 3 * DAY - 7 * HOUR));
      for (const [at, view] of views.entries()) {
        const kept = { ...view, key: `extended|${JSON.stringify(variant)}`, openFrom: cut };
        const whole = { ...view, key: `extended whole|${JSON.stringify(variant)}|${at}`, openFrom: Infinity };
        for (const dimension of ATTRIBUTION_DIMENSIONS) expect(peopleByAttribution(kept, dimension)).toEqual(peopleByAttribution(whole, dimension));
        for (const dimension of VISIT_DIMENSIONS) expect(peopleByTraffic(kept, { kind: "visit", dimension })).toEqual(peopleByTraffic(whole, { kind: "visit", dimension }));
        expect(peopleByTraffic(kept, { kind: "page" })).toEqual(peopleByTraffic(whole, { kind: "page" }));
      }
    }
  });

  test("a filtered view after the unfiltered one picks its earlier visits out of the unfiltered one's, with what counting at once gives", async () => {
    const cut = NOW - 5 * DAY;
    const view = await primedQuery({ projectId: project.id, from: START, to: NOW, timeZone: "UTC", now: NOW, filter: { source: "twitter" } });
    const unfiltered = { ...view.single!.unfiltered, key: "narrowed|unfiltered", openFrom: cut };
    const filtered = { ...view, key: "narrowed|twitter", openFrom: cut, single: { ...view.single!, unfiltered } };
    const whole = { ...view, key: "narrowed|twitter|whole", openFrom: Infinity, single: null };
    peopleByAttribution(unfiltered, "campaign");
    for (const dimension of ["campaign", "link"] as const) expect(peopleByAttribution(filtered, dimension)).toEqual(peopleByAttribution(whole, dimension));
    expect(peopleByTraffic(filtered, { kind: "visit", dimension: "country" })).toEqual(peopleByTraffic(whole, { kind: "visit", dimension: "country" }));
    expect(peopleByTraffic(filtered, { kind: "page" })).toEqual(peopleByTraffic(whole, { kind: "page" }));
  });

  test("a filter on one attribution value reads its totals and its own report from the unfiltered rows, with what counting the filtered visits gives", async () => {
    const link = (await database.storage.get<{ id: string }>("SELECT link_id AS id FROM events WHERE project_id = ? AND link_id IS NOT NULL LIMIT 1", [project.id]))!.id;
    // '' is traffic without that value: the generated journeys carry no medium, content or lead.
    const values: Record<string, string> = { link, campaign: "beta", source: "twitter", medium: "", content: "", lead: "" };
    for (const model of ["last", "first"] as const) {
      for (const dimension of ATTRIBUTION_DIMENSIONS) {
        const q = await primedQuery({ projectId: project.id, from: START, to: NOW, timeZone: "UTC", now: NOW, model, filter: { [dimension]: values[dimension]! } });
        expect(q.single).not.toBeNull();
        // The unfiltered report is kept once counted: from then on the filtered totals are read from it.
        peopleByAttribution(q.single!.unfiltered, dimension);
        const counted = { ...q, single: null, key: `${q.key}|counted` };
        const totals = peopleTotals(q);
        expect(totals).toEqual(peopleTotals(counted));
        expect(totals.visitors).toBeGreaterThan(0);
        // Counting the filtered visits also leaves empty rows for the other values its windows hold; reports drop those.
        const withPeople = <Row extends { visitors: number; customers: number }>(rows: Map<string, Row>) => new Map([...rows].filter(([, row]) => row.visitors || row.customers));
        expect(peopleByAttribution(q, dimension)).toEqual(withPeople(peopleByAttribution(counted, dimension)));
      }
    }
  });

  test("counted ahead a window at a time, they give what counting at once gives", async () => {
    const base = await primedQuery({ projectId: project.id, from: START, to: NOW, timeZone: "UTC", now: NOW });
    const cut = START + 25 * DAY;
    const primed = { ...base, key: "primed", openFrom: cut };
    const whole = { ...base, key: "primed-whole", openFrom: Infinity };
    const bucketOf = (w: PeopleWindow) => Math.floor((w.start - START) / (5 * DAY));
    const tracked = new Set(FUNNEL_STEPS);
    let pauses = 0;
    await primePeople(
      primed,
      { totals: true, attribution: ATTRIBUTION_DIMENSIONS, traffic: [{ kind: "visit", dimension: "country" }, { kind: "page" }], buckets: { count: 8, bucketOf }, funnel: tracked },
      async () => void pauses++,
    );
    // One pause per kept window per pass: the warm-up never holds the event loop for a whole range.
    expect(pauses).toBeGreaterThan(25 * 2 * (1 + ATTRIBUTION_DIMENSIONS.length));
    expect(peopleTotals(primed)).toEqual(peopleTotals(whole));
    for (const dimension of ATTRIBUTION_DIMENSIONS) expect(peopleByAttribution(primed, dimension)).toEqual(peopleByAttribution(whole, dimension));
    expect(peopleByTraffic(primed, { kind: "visit", dimension: "country" })).toEqual(peopleByTraffic(whole, { kind: "visit", dimension: "country" }));
    expect(peopleByTraffic(primed, { kind: "page" })).toEqual(peopleByTraffic(whole, { kind: "page" }));
    expect(visitorsPerBucket(primed, 8, bucketOf)).toEqual(visitorsPerBucket(whole, 8, bucketOf));
    expect(funnel(primed, tracked)).toEqual(funnel(whole, tracked));
  });

  test("windows read apart keep one shared copy of each context and traits tuple, not copies of their strings", async () => {
    const a = await readWindowOn(START, START + 20 * DAY);
    const b = await readWindowOn(START + 10 * DAY, NOW);
    const shared = a.contexts.filter((context) => b.contexts.includes(context));
    // Tuples equal in content are the same object in both windows.
    expect(shared.length).toBeGreaterThan(3);
    for (const context of a.contexts) {
      const twin = b.contexts.find((other) => other.join("|") === context.join("|"));
      if (twin) expect(twin).toBe(context);
    }
    expect(a.traits.filter((traits) => b.traits.includes(traits)).length).toBeGreaterThan(0);
  });

  test("person links read a page at a time are the same links whatever the page size: a visitor's latest identification wins across pages", async () => {
    const { storage, writes, reports } = database;
    await writes.job((tx) => identifyProfile(tx, project.id, { id: "paged_a", email: "paged-a@example.com" }, "paged_visitor", NOW - 2 * DAY, "trusted"));
    await writes.job((tx) => identifyProfile(tx, project.id, { id: "paged_b", email: "paged-b@example.com" }, "paged_visitor", NOW - DAY, "trusted"));
    // The reader each engine's reports use: SQLite's yields between pages, the storage's awaits a pause there.
    const read = async (pageSize?: number) => {
      let pagesRead = 1;
      if (reports instanceof PostgresReports) return { links: await readPersonsFrom(storage, project.id, pageSize, async () => void pagesRead++), pagesRead };
      const pages = readPersons(reports, project.id, pageSize);
      for (let next = pages.next(); ; next = pages.next(), pagesRead++) if (next.done) return { links: next.value, pagesRead };
    };
    const whole = await read();
    expect(whole.pagesRead).toBe(1);
    expect(whole.links.get(hashId("paged_visitor"))).toBe(profileHash((await storage.get<{ id: string }>("SELECT id FROM profiles WHERE email = ?", ["paged-b@example.com"]))!.id));
    for (const pageSize of [1, 2, 7]) {
      const paged = await read(pageSize);
      expect(paged.pagesRead).toBeGreaterThan(whole.links.size / pageSize);
      expect(paged.links).toEqual(whole.links);
    }
    // The warm-up reads them again (here, past their age limit) and a page then finds them read.
    const later = NOW + 40 * 60_000;
    await warmPersons(reports, project.id, later, 0, async () => {});
    const warmed = personOf(reports, project.id, later);
    expect(warmed.size).toBe(whole.links.size);
    expect(warmed(hashId("paged_visitor"))).toBe(whole.links.get(hashId("paged_visitor"))!);
  });

  test("person links read again after they age out are the same links: the kept counts stay valid; a new link makes a new reading", async () => {
    const { writes, reports } = database;
    // On PostgreSQL a report's prime reads them (here, each time: they are older than another node's writes may be).
    const personsAt = async (now: number) => {
      if (reports instanceof PostgresReports) await primePersons(reports, project.id, now);
      return personOf(reports, project.id, now);
    };
    const first = await personsAt(NOW);
    // Past the half hour links are kept, with nothing identified meanwhile.
    const later = await personsAt(NOW + 31 * 60_000);
    expect(later).toBe(first);
    await writes.job((tx) => identifyProfile(tx, project.id, { id: "late_user", email: "late@example.com" }, "late_visitor", NOW, "trusted"));
    const after = await personsAt(NOW + 32 * 60_000);
    expect(after).not.toBe(first);
    expect(after(hashId("late_visitor"))).not.toBe(hashId("late_visitor"));
    expect(after.size).toBe(first.size + 1);
  });
});

describe("distinct counter", () => {
  test("exact up to its limit, then within 1 % of the true count", () => {
    for (const n of [1, 999, 1000, EXACT_LIMIT]) {
      const counter = new DistinctCounter();
      for (let i = 0; i < n; i++) counter.add(hashId(`visitor-${n}-${i}`));
      for (let i = 0; i < n; i++) counter.add(hashId(`visitor-${n}-${i}`));
      expect(counter.count()).toBe(n);
    }
    for (const n of [EXACT_LIMIT + 1, 5_000, 30_000, 250_000, 1_000_000]) {
      const counter = new DistinctCounter();
      for (let i = 0; i < n; i++) counter.add(hashId(`person-${n}-${i}`));
      expect(Math.abs(counter.count() - n) / n).toBeLessThan(0.01);
    }
  });

  test("a kept count extended with new visitors counts the union and leaves the kept one as it was", () => {
    const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => hashId(`extended-${from + i}`));
    for (const [kept, added] of [
      [[0, 1_000], [500, 1_500]],
      [[0, 2_000], [1_900, 2_500]],
      [[0, 40_000], [39_000, 41_000]],
      [[0, 40_000], [20_000, 80_000]],
    ] as const) {
      const base = new DistinctCounter();
      const baseSet = new HashSet();
      for (const id of ids(kept[0], kept[1])) {
        base.add(id);
        baseSet.add(id);
      }
      const baseCount = base.count();
      const counter = base.extend();
      const set = baseSet.extend();
      for (const id of ids(added[0], added[1])) {
        counter.add(id);
        set.add(id);
      }
      const union = added[1] - kept[0];
      if (union <= EXACT_LIMIT) expect(counter.count()).toBe(union);
      else expect(Math.abs(counter.count() - union) / union).toBeLessThan(0.01);
      expect(base.count()).toBe(baseCount);
      expect([set.size, baseSet.size]).toEqual([union, kept[1] - kept[0]]);
      expect([set.has(ids(added[1] - 1, added[1])[0]!), baseSet.has(ids(added[1] - 1, added[1])[0]!)]).toEqual([true, false]);
      let seen = 0;
      set.extend().forEach(() => seen++);
      expect(seen).toBe(union);
    }
  });

  test("a kept map extended with new entries reads both, combines over the kept values and leaves the kept map as it was", () => {
    const kept = new HashMap();
    for (let i = 0; i < 1_000; i++) kept.merge(hashId(`person-${i}`), i, Math.min);
    const map = kept.extend();
    for (let i = 500; i < 3_000; i++) map.merge(hashId(`person-${i}`), 10_000 + i, Math.min);
    map.merge(hashId("person-10"), 1, Math.min);
    expect([map.size, kept.size]).toEqual([3_000, 1_000]);
    expect([map.get(hashId("person-10")), kept.get(hashId("person-10"))]).toEqual([1, 10]);
    expect([map.get(hashId("person-600")), map.get(hashId("person-2000")), kept.get(hashId("person-2000"))]).toEqual([600, 12_000, undefined]);
    let sum = 0;
    let entries = 0;
    map.extend().forEach((_, value) => {
      sum += value;
      entries++;
    });
    // 0..999 kept (person-10 now 1), 1000..2999 added at 10,000 + i.
    expect(entries).toBe(3_000);
    expect(sum).toBe((999 * 1_000) / 2 - 9 + 2_000 * 10_000 + (1_000 + 2_999) * 1_000);
  });
});
