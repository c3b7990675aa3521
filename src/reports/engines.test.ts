// The summary, attribution, traffic and funnel reports on both engines, prime then compute (source.ts): a small journey and payments written by
// the real write jobs, and the same hand-counted numbers from SQLite and from PostgreSQL.
import { afterEach, expect, test } from "bun:test";
import type { Engine } from "../db/storage/storage.ts";
import { applyProviderEvent } from "../payments/ledger.ts";
import { emptyPayment, type IncomingPayment, type LedgerOp, type ProviderEvent } from "../payments/types.ts";
import { createProject, type Project } from "../projects/service.ts";
import { describeOnEngines, freshDatabase, twoNodeDatabases, type TestDatabase } from "../testing/engines.ts";
import { storeHit, type Hit, type Landing } from "../tracking/journey.ts";
import { createLink } from "../links/service.ts";
import { attributionOn } from "./attribution.ts";
import { funnelOn, summaryOn } from "./summary.ts";
import { trafficOn } from "./traffic.ts";
import type { FunnelStepName } from "./people/index.ts";
import { primeRollups, revenue, revenueSeries, traffic, trafficSeries, visitorSeries, type RollupQuery } from "../dashboard/pages/rollups.ts";
import { bucketsFor } from "../dashboard/pages/time.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
// The dashboard's 30 days: whole UTC days (the project's time zone), today running until NOW.
const TODAY = Date.UTC(2026, 4, 20);
const NOW = TODAY + 15 * HOUR_MS + 7 * 60_000;
const RANGE = { from: TODAY - 29 * DAY_MS, to: TODAY + DAY_MS };

const open: TestDatabase[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((db) => db.close()));
});

async function setup(engine: Engine): Promise<{ db: TestDatabase; project: Project }> {
  const db = await freshDatabase(engine);
  open.push(db);
  return { db, project: await createProject(db.storage, { name: "Summary" }, RANGE.from - DAY_MS) };
}

const noLanding: Landing = { clickId: null, utm: { source: null, medium: null, campaign: null, content: null }, referrerHost: null };
const utm = (source: string, campaign: string): Landing => ({ ...noLanding, utm: { source, medium: "email", campaign, content: null } });

function hit(projectId: string, visitorId: string, ts: number, more: Partial<Hit> = {}): Hit {
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

let events = 0;
const stripeEvent = (): ProviderEvent => ({ provider: "stripe", eventId: `evt_summary_${++events}`, type: "checkout.session.completed", via: "webhook", payload: "{}" });
const payment = (kind: IncomingPayment["kind"], key: string, amount: number, more: Partial<IncomingPayment> = {}): LedgerOp => ({
  op: "payment",
  payment: { ...emptyPayment("stripe"), kind, key, amount, tax: 0, currency: "USD", occurredAt: NOW, ...more },
});

async function store(db: TestDatabase, hits: Hit[]): Promise<void> {
  for (const h of hits) await db.writes.job((tx) => storeHit(tx, h));
}
async function pay(db: TestDatabase, projectId: string, ops: LedgerOp[]): Promise<void> {
  await db.writes.job((tx) => applyProviderEvent(tx, projectId, stripeEvent(), ops, NOW));
}

/**
 * Three visitors over the range, and a fourth before it:
 * - ada: from the spring newsletter 10 days ago, signs up and identifies that day; buys today (49.00
 *   with 4.00 tax: 45.00 net) with her visitor id in the checkout, and is refunded 10.00 of it.
 * - bo: two visits a day apart, the second to pricing; never signs up.
 * - cy: from x 3 days ago, signs up without identifying.
 * - dee: 40 days ago, out of the range, but pays today by email (20.00): a customer without a visit.
 * Visitors 3, signups 2 (ada, cy), customers 2 (ada, dee), conversion 1 of 3 visitors bought (ada):
 * 1/3; payments 2, revenue 45.00 + 20.00, refunds 10.00, net 55.00, revenue per visitor 1833.
 */
async function fixture(db: TestDatabase, projectId: string): Promise<void> {
  const tenDaysAgo = TODAY - 10 * DAY_MS + 9 * HOUR_MS;
  await store(db, [
    hit(projectId, "ada", tenDaysAgo, { landing: utm("newsletter", "spring") }),
    hit(projectId, "ada", tenDaysAgo + 5 * 60_000, { name: "signup_completed", path: "/signup", identify: { id: "usr_ada", email: "ada@example.com", trust: "trusted" } }),
    hit(projectId, "bo", TODAY - 2 * DAY_MS + 11 * HOUR_MS),
    hit(projectId, "bo", TODAY - DAY_MS + 11 * HOUR_MS, { path: "/pricing", isPricingPage: true }),
    hit(projectId, "cy", TODAY - 3 * DAY_MS + 20 * HOUR_MS, { landing: utm("x", "launch") }),
    hit(projectId, "cy", TODAY - 3 * DAY_MS + 20 * HOUR_MS + 60_000, { name: "signup_completed", path: "/signup" }),
    hit(projectId, "dee", TODAY - 40 * DAY_MS),
  ]);
  await pay(db, projectId, [payment("sale", "cs_ada", 4900, { tax: 400, chargeId: "ch_ada", metadata: { visitorId: "ada" }, email: "ada@example.com", occurredAt: NOW - 2 * HOUR_MS })]);
  await pay(db, projectId, [payment("refund", "ignored", 0, { parent: { chargeId: "ch_ada" }, cumulativeRefund: { scope: "ch_ada", total: 1000, totalTax: 0 }, occurredAt: NOW - HOUR_MS })]);
  await pay(db, projectId, [payment("sale", "cs_dee", 2000, { email: "dee@example.com", occurredAt: NOW - 3 * HOUR_MS })]);
}

const report = async (db: TestDatabase, project: Project, range = RANGE, now = NOW) => {
  await db.settle();
  return summaryOn(db.reports, project, range, now);
};

describeOnEngines("reports, primed then computed", (engine) => {
  test("the hand-counted people and money of a small journey, over the dashboard's 30 days (folded days)", async () => {
    const { db, project } = await setup(engine);
    await fixture(db, project.id);
    expect(await report(db, project)).toEqual({
      visitors: 3,
      clicks: 0,
      signups: 2,
      customers: 2,
      conversionRate: 1 / 3,
      payments: 2,
      revenue: 6500,
      refunds: 1000,
      net: 5500,
      unconverted: 0,
      revenuePerVisitor: 1833,
      currency: "USD",
      byCurrency: [{ currency: "USD", payments: 2, revenue: 6500, refunds: 1000, net: 5500 }],
    });
  });

  test("a range of under two days, off midnight, sums the rollup tables: the same numbers on both engines", async () => {
    const { db, project } = await setup(engine);
    await fixture(db, project.id);
    // From bo's pricing visit yesterday through now: bo and the two payments of today.
    const summary = await report(db, project, { from: TODAY - DAY_MS + 10 * HOUR_MS, to: NOW });
    expect(summary).toMatchObject({ visitors: 1, signups: 0, customers: 2, conversionRate: 0, payments: 2, revenue: 6500, refunds: 1000, net: 5500, revenuePerVisitor: 5500 });
  });

  test("what is written after a report is in the next one, past days and today alike", async () => {
    const { db, project } = await setup(engine);
    await fixture(db, project.id);
    expect(await report(db, project)).toMatchObject({ visitors: 3, signups: 2, customers: 2, net: 5500 });

    // A late visit into a day already folded and kept, a new signup today, and bo buys.
    await store(db, [
      hit(project.id, "eve", TODAY - 5 * DAY_MS + 8 * HOUR_MS, { landing: utm("newsletter", "spring") }),
      hit(project.id, "bo", NOW - 20 * 60_000, { name: "signup_completed", path: "/signup", identify: { id: "usr_bo", email: "bo@example.com", trust: "trusted" } }),
    ]);
    await pay(db, project.id, [payment("sale", "cs_bo", 1500, { metadata: { visitorId: "bo" }, email: "bo@example.com", occurredAt: NOW - 10 * 60_000 })]);
    const later = NOW + 60_000;
    expect(await report(db, project, RANGE, later)).toMatchObject({
      visitors: 4,
      signups: 3,
      customers: 3,
      conversionRate: 2 / 4,
      payments: 3,
      revenue: 8000,
      refunds: 1000,
      net: 7000,
      revenuePerVisitor: 1750,
    });
  });

  test("another node's visit, signup and sale today reach this node's next report", async () => {
    const opened: TestDatabase[] = [];
    const [node, other] = await twoNodeDatabases(engine, opened);
    open.push(...opened);
    const project = await createProject(node.storage, { name: "Two nodes" }, RANGE.from - DAY_MS);
    await fixture(node, project.id);
    expect(await report(node, project)).toMatchObject({ visitors: 3, signups: 2, customers: 2, net: 5500 });

    // Written by the other node as it happens, a minute later: this node hears no note of it (until notes
    // are broadcast), but the hour still running is read again at each report.
    const later = NOW + 60_000;
    await store(other, [
      hit(project.id, "fay", later - 8_000, { landing: utm("x", "launch") }),
      hit(project.id, "fay", later - 6_000, { name: "signup_completed", path: "/signup", identify: { id: "usr_fay", email: "fay@example.com", trust: "trusted" } }),
    ]);
    await pay(other, project.id, [payment("sale", "cs_fay", 3000, { metadata: { visitorId: "fay" }, email: "fay@example.com", occurredAt: later - 4_000 })]);
    await other.settle();
    expect(await report(node, project, RANGE, later)).toMatchObject({ visitors: 4, signups: 3, customers: 3, conversionRate: 2 / 4, payments: 3, net: 8500 });
  });

  test("the attribution report by source and by campaign: people, money and labels per row", async () => {
    const { db, project } = await setup(engine);
    await createLink(db.storage, project.id, { destinationUrl: "https://site.example/", campaignId: "spring", source: "newsletter", medium: "email" }, RANGE.from);
    await fixture(db, project.id);
    await db.settle();
    const bySource = await attributionOn(db.reports, project, { groupBy: "source", ...RANGE }, NOW);
    const pick = ({ key, label, visitors, signups, customers, conversionRate, payments, net }: (typeof bySource)[number]) => ({ key, label, visitors, signups, customers, conversionRate, payments, net });
    // ada's sale (45.00, less 10.00 refunded) is credited to the newsletter; dee's (20.00) to no source, as are bo's visits.
    expect(bySource.map(pick)).toEqual([
      { key: "newsletter", label: "newsletter", visitors: 1, signups: 1, customers: 1, conversionRate: 1, payments: 1, net: 3500 },
      { key: null, label: "(none)", visitors: 1, signups: 0, customers: 1, conversionRate: 0, payments: 1, net: 2000 },
      { key: "x", label: "x", visitors: 1, signups: 1, customers: 0, conversionRate: 0, payments: 0, net: 0 },
    ]);
    const byCampaign = await attributionOn(db.reports, project, { groupBy: "campaign", ...RANGE, model: "first" }, NOW);
    expect(byCampaign.map(pick)).toEqual([
      { key: "spring", label: "spring", visitors: 1, signups: 1, customers: 1, conversionRate: 1, payments: 1, net: 3500 },
      { key: null, label: "(none)", visitors: 1, signups: 0, customers: 1, conversionRate: 0, payments: 1, net: 2000 },
      { key: "launch", label: "launch", visitors: 1, signups: 1, customers: 0, conversionRate: 0, payments: 0, net: 0 },
    ]);
  });
});

/**
 * Three visitors for the traffic report and the funnel (no clicks, no signup_started: neither step is tracked):
 * - ann: 5 days ago from news.example in France, views / and /pricing twice (once with a query string, the
 *   same page), signs up and identifies; pays 20.00 today.
 * - ben: 4 days ago from search.example in Germany, views / and /docs.
 * - cat: today from nowhere in France, views /pricing; pays 30.00 without signing up.
 */
async function trafficFixture(db: TestDatabase, projectId: string): Promise<void> {
  const ann = TODAY - 5 * DAY_MS + 9 * HOUR_MS;
  const fromNews: Landing = { ...noLanding, referrerHost: "news.example" };
  const fromSearch: Landing = { ...noLanding, referrerHost: "search.example" };
  await store(db, [
    hit(projectId, "ann", ann, { landing: fromNews, country: "FR" }),
    hit(projectId, "ann", ann + 60_000, { landing: fromNews, country: "FR", path: "/pricing", isPricingPage: true }),
    hit(projectId, "ann", ann + 2 * 60_000, { landing: fromNews, country: "FR", path: "/pricing?plan=pro", isPricingPage: true }),
    hit(projectId, "ann", ann + 3 * 60_000, { landing: fromNews, country: "FR", name: "signup_completed", path: "/signup", identify: { id: "usr_ann", email: "ann@example.com", trust: "trusted" } }),
    hit(projectId, "ben", TODAY - 4 * DAY_MS + 14 * HOUR_MS, { landing: fromSearch }),
    hit(projectId, "ben", TODAY - 4 * DAY_MS + 14 * HOUR_MS + 60_000, { landing: fromSearch, path: "/docs" }),
    hit(projectId, "cat", NOW - 3 * HOUR_MS, { country: "FR", path: "/pricing", isPricingPage: true }),
  ]);
  await pay(db, projectId, [payment("sale", "cs_ann", 2000, { metadata: { visitorId: "ann" }, email: "ann@example.com", occurredAt: NOW - 2 * HOUR_MS })]);
  await pay(db, projectId, [payment("sale", "cs_cat", 3000, { metadata: { visitorId: "cat" }, occurredAt: NOW - 90 * 60_000 })]);
}

const trafficRow = (key: string | null, visitors: number, pageviews: number, signups: number, customers: number, conversionRate: number, net: number) => ({
  key,
  visitors,
  people: undefined,
  pageviews,
  signups,
  customers,
  conversionRate,
  net,
  unconverted: 0,
  currency: "USD",
});
const withoutPeople = ({ people: _people, ...row }: ReturnType<typeof trafficRow>) => row;

describeOnEngines("the traffic report and the funnel, primed then computed", (engine) => {
  test("by page: views of a page with a query string are the page's, and a row's people, customers and net are its visitors'", async () => {
    const { db, project } = await setup(engine);
    await trafficFixture(db, project.id);
    await db.settle();
    // / : ann and ben; /pricing: ann (twice) and cat, both customers (20.00 + 30.00); /docs: ben. ann signed up.
    expect(await trafficOn(db.reports, project, { groupBy: "page", ...RANGE }, NOW)).toEqual(
      [trafficRow("/pricing", 2, 3, 1, 2, 1, 5000), trafficRow("/", 2, 2, 1, 1, 1 / 2, 2000), trafficRow("/docs", 1, 1, 0, 0, 0, 0)].map(withoutPeople),
    );
  });

  test("by referrer and by country, and by page again after a new page view today", async () => {
    const { db, project } = await setup(engine);
    await trafficFixture(db, project.id);
    await db.settle();
    expect(await trafficOn(db.reports, project, { groupBy: "referrer", ...RANGE }, NOW)).toEqual(
      [trafficRow("news.example", 1, 3, 1, 1, 1, 2000), trafficRow("search.example", 1, 2, 0, 0, 0, 0), trafficRow(null, 1, 1, 0, 1, 1, 3000)].map(withoutPeople),
    );
    expect(await trafficOn(db.reports, project, { groupBy: "country", ...RANGE }, NOW)).toEqual(
      [trafficRow("FR", 2, 4, 1, 2, 1, 5000), trafficRow("DE", 1, 2, 0, 0, 0, 0)].map(withoutPeople),
    );
    expect((await trafficOn(db.reports, project, { groupBy: "page", ...RANGE }, NOW)).map((r) => r.key)).toEqual(["/pricing", "/", "/docs"]);
    // ben comes back today to /docs: the open day's pages are read again.
    await store(db, [hit(project.id, "ben", NOW - 30 * 60_000, { path: "/docs" })]);
    await db.settle();
    const later = NOW + 60_000;
    const docs = (await trafficOn(db.reports, project, { groupBy: "page", ...RANGE }, later)).find((r) => r.key === "/docs");
    expect(docs).toMatchObject({ visitors: 1, pageviews: 2 });
  });

  test("the funnel: people who reached each tracked step after the previous one", async () => {
    const { db, project } = await setup(engine);
    await trafficFixture(db, project.id);
    await db.settle();
    // Visited: ann, ben, cat; then pricing: ann, cat; then signed up: ann; then paid: ann (cat paid without signing up).
    const untracked = (name: FunnelStepName) => ({ name, people: null, conversionFromPrevious: null, conversionFromFirst: null, tracked: false });
    expect(await funnelOn(db.reports, project, RANGE, NOW)).toEqual([
      untracked("link_clicked"),
      { name: "page_view", people: 3, conversionFromPrevious: null, conversionFromFirst: 1, tracked: true },
      { name: "pricing_view", people: 2, conversionFromPrevious: 2 / 3, conversionFromFirst: 2 / 3, tracked: true },
      untracked("signup_started"),
      { name: "signup_completed", people: 1, conversionFromPrevious: 1 / 2, conversionFromFirst: 1 / 3, tracked: true },
      { name: "payment_completed", people: 1, conversionFromPrevious: 1, conversionFromFirst: 1 / 3, tracked: true },
    ]);
    // Narrowed to news.example's source (a referrer without a campaign is its source): ann alone.
    const news = await funnelOn(db.reports, project, { ...RANGE, filter: { source: "news.example" } }, NOW);
    expect(news.filter((s) => s.tracked).map((s) => s.people)).toEqual([1, 1, 1, 1]);
  });
});

describeOnEngines("the dashboard's rollups, primed then computed", (engine) => {
  test("totals, series and visitors per bucket over 30 days (folded days) and over today (hourly rows)", async () => {
    const { db, project } = await setup(engine);
    await trafficFixture(db, project.id);
    await db.settle();
    const query = (range: { from: number; to: number }): RollupQuery => ({ db: db.reports, projectId: project.id, range, timeZone: "UTC", now: NOW, currency: "USD" });
    const month = query(RANGE);
    const today = query({ from: TODAY, to: TODAY + DAY_MS });
    await Promise.all([primeRollups(month), primeRollups(today)]);
    const usd = { currency: "USD", payments: 2, revenue: 5000, refunds: 0, net: 5000, reportingNet: 5000, unconverted: 0 };
    // Page views: ann 3, ben 2, cat 1 (today); a session each; ann's signup.
    expect(traffic(month)).toEqual({ clicks: 0, sessions: 3, pageviews: 6, pricingViews: 3, signups: 1, signupsStarted: 0 });
    expect(revenue(month, "USD")).toEqual([usd]);
    expect(traffic(today)).toEqual({ clicks: 0, sessions: 1, pageviews: 1, pricingViews: 1, signups: 0, signupsStarted: 0 });
    expect(revenue(today, "USD")).toEqual([usd]);
    // A row per day over the month, per hour with rows today: the same sums.
    expect(trafficSeries(month)).toHaveLength(30);
    expect(trafficSeries(month).reduce((n, r) => n + r.pageviews, 0)).toBe(6);
    expect(trafficSeries(today).map((r) => [r.hour, r.pageviews])).toEqual([[NOW - 3 * HOUR_MS - 7 * 60_000, 1]]);
    // Both payments in the hour from 13:00 (ann's at 13:07, cat's at 13:37).
    expect(revenueSeries(today).map((r) => [r.hour, r.net])).toEqual([[NOW - 2 * HOUR_MS - 7 * 60_000, 5000]]);
    const visitors = visitorSeries(month, bucketsFor(RANGE, "UTC"));
    expect(visitors.filter((p) => p.value > 0).map((p) => [p.t, p.value])).toEqual([
      [TODAY - 5 * DAY_MS, 1],
      [TODAY - 4 * DAY_MS, 1],
      [TODAY, 1],
    ]);
  });
});
