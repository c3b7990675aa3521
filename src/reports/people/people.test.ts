// Counting people through the real server (SPEC §10): fixtures whose answers were worked out by hand,
// sent through the tracker's collect endpoint, short links and the REST API on a simulated clock.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../../testing/harness.ts";
import { createProject, type Project } from "../../projects/service.ts";
import { createApiKey } from "../../auth/api-keys.ts";
import { createLink } from "../../links/service.ts";

const UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15";
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// Noon UTC on the last day of the fixtures; every range below ends at the following midnight.
const TODAY = Date.UTC(2026, 10, 20, 12);
const END = Date.UTC(2026, 10, 21);
let clock = TODAY;
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ now: () => clock });
});
afterAll(() => server.close());

interface Site {
  project: Project;
  key: string;
}

async function newSite(name: string): Promise<Site> {
  const project = await createProject(server.instance.ctx.storage, { name });
  return { project, key: (await createApiKey(server.instance.ctx.storage, project.id, "tests")).key };
}

async function collect(site: Site, at: number, fields: { n?: string; u: string; v?: string }) {
  clock = at;
  const response = await fetch(`${server.url}/api/collect`, {
    method: "POST",
    body: JSON.stringify({ t: site.project.token, n: fields.n ?? "page_view", u: fields.u, r: "", v: fields.v }),
    headers: { "content-type": "text/plain;charset=UTF-8", "user-agent": UA },
  });
  expect(response.status).toBe(200);
}

/** Follows a short link at `at` and returns the landing URL with its bt_click. */
async function click(slug: string, at: number): Promise<string> {
  clock = at;
  const response = await fetch(`${server.url}/l/${slug}`, { redirect: "manual", headers: { "user-agent": UA } });
  expect(response.status).toBe(302);
  return response.headers.get("location")!;
}

async function api<T>(site: Site, path: string, init: { method?: string; json?: unknown } = {}): Promise<T> {
  const response = await fetch(`${server.url}/api/v1${path}`, {
    method: init.method ?? "GET",
    headers: { authorization: `Bearer ${site.key}`, "content-type": "application/json" },
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
  expect(response.status).toBeLessThan(300);
  return (await response.json()) as T;
}

interface Row {
  key: string | null;
  visitors: number;
  customers: number;
  conversionRate: number;
  signups: number;
}
const range = (from: number, to: number) => `from=${from}&to=${to}`;
const summary = (site: Site, from: number, to = END) => api<{ visitors: number; customers: number; conversionRate: number }>(site, `/reports/summary?${range(from, to)}`);
const rows = async (site: Site, report: string, from: number, to = END) => (await api<{ rows: Row[] }>(site, `/reports/${report}&${range(from, to)}`)).rows;
const row = async (site: Site, report: string, key: string, from: number, to = END) => (await rows(site, report, from, to)).find((r) => r.key === key);

describe("visitors are people counted once over the range", () => {
  test("a persist-mode visitor on 5 days counts once over 30 days and once in each of the 5 days", async () => {
    const site = await newSite("Five days");
    for (let d = 4; d >= 0; d--) await collect(site, TODAY - d * DAY, { u: "https://site.example/?utm_campaign=spring", v: "persisted_visitor_a" });
    await collect(site, TODAY - 2 * DAY + HOUR, { u: "https://site.example/?utm_campaign=spring", v: "persisted_visitor_b" });
    // Server-side events with past timestamps count as that visitor's activity on their day.
    clock = TODAY;
    await api(site, "/events", { method: "POST", json: { name: "signup_completed", visitorId: "persisted_visitor_a", timestamp: new Date(TODAY - 3 * DAY + HOUR).toISOString() } });

    expect((await summary(site, END - 30 * DAY)).visitors).toBe(2);
    expect(await row(site, "attribution?groupBy=campaign", "spring", END - 30 * DAY)).toMatchObject({ visitors: 2 });
    const daily = [];
    for (let d = 4; d >= 0; d--) daily.push((await summary(site, END - (d + 1) * DAY, END - d * DAY)).visitors);
    // A on each of the 5 days, B on the third.
    expect(daily).toEqual([1, 1, 2, 1, 1]);
  });

  test("one visitor through two links on one day counts once in the total and once in each link's row", async () => {
    const site = await newSite("Two links");
    const one = await createLink(server.instance.ctx.storage, site.project.id, { destinationUrl: "https://site.example/one", slug: "people-one", campaignId: "launch" });
    const two = await createLink(server.instance.ctx.storage, site.project.id, { destinationUrl: "https://site.example/two", slug: "people-two", campaignId: "launch" });
    await collect(site, TODAY, { u: await click("people-one", TODAY), v: "persisted_visitor_c" });
    await collect(site, TODAY + 5 * 60_000, { u: await click("people-two", TODAY + 4 * 60_000), v: "persisted_visitor_c" });

    const from = END - 7 * DAY;
    expect((await summary(site, from)).visitors).toBe(1);
    expect(await row(site, "attribution?groupBy=link", one.linkId, from)).toMatchObject({ visitors: 1 });
    expect(await row(site, "attribution?groupBy=link", two.linkId, from)).toMatchObject({ visitors: 1 });
    expect(await row(site, "attribution?groupBy=campaign", "launch", from)).toMatchObject({ visitors: 1 });
    // The clicks count under the landing's visitor, not the cookieless id of the redirect.
    const clickVisitors = await server.storage.all("SELECT DISTINCT visitor_id FROM clicks WHERE link_id IN (?, ?)", [one.linkId, two.linkId]);
    expect(clickVisitors).toEqual([{ visitor_id: "persisted_visitor_c" }]);
  });

  test("a cookieless visitor on two days counts twice, and the pages say so", async () => {
    const site = await newSite("Cookieless");
    await collect(site, TODAY - DAY, { u: "https://site.example/" });
    await collect(site, TODAY - DAY + 10 * 60_000, { u: "https://site.example/docs" });
    await collect(site, TODAY, { u: "https://site.example/" });
    expect((await summary(site, END - 2 * DAY)).visitors).toBe(2);
    expect(await row(site, "traffic?groupBy=page", "/docs", END - 2 * DAY)).toMatchObject({ visitors: 1, pageviews: 1 });
    expect(await row(site, "traffic?groupBy=page", "/", END - 2 * DAY)).toMatchObject({ visitors: 2, pageviews: 2 });
  });
});

describe("traffic breakdowns", () => {
  test("a click whose landing never reports still counts under its device, browser and OS", async () => {
    const site = await newSite("Click only");
    await createLink(server.instance.ctx.storage, site.project.id, { destinationUrl: "https://elsewhere.example/", slug: "people-click-only" });
    await click("people-click-only", TODAY);
    clock = TODAY;
    const from = END - DAY;
    expect(await rows(site, "traffic?groupBy=device", from)).toMatchObject([{ key: "desktop", visitors: 1, pageviews: 0 }]);
    expect(await rows(site, "traffic?groupBy=browser", from)).toMatchObject([{ key: "Safari", visitors: 1 }]);
    expect(await rows(site, "traffic?groupBy=os", from)).toMatchObject([{ key: "Mac OS", visitors: 1 }]);
  });
});

describe("customers and conversion", () => {
  test("a customer whose visit lies before the range is a customer of the row, never a conversion above 100 %", async () => {
    const site = await newSite("Earlier visit");
    await collect(site, TODAY - 10 * DAY, { u: "https://site.example/?utm_campaign=webinar", v: "persisted_visitor_d" });
    await collect(site, TODAY - 2 * DAY, { u: "https://site.example/?utm_campaign=webinar", v: "persisted_visitor_e" });
    clock = TODAY;
    await api(site, "/payments", { method: "POST", json: { transactionId: "tx_d", amount: 5000, currency: "USD", metadata: { visitorId: "persisted_visitor_d" }, timestamp: TODAY - DAY } });
    const lastFive = await row(site, "attribution?groupBy=campaign", "webinar", END - 5 * DAY);
    // E visited in the range and did not buy; D bought in the range but visited before it.
    expect(lastFive).toMatchObject({ visitors: 1, customers: 1, conversionRate: 0 });
    const lastFifteen = await row(site, "attribution?groupBy=campaign", "webinar", END - 15 * DAY);
    expect(lastFifteen).toMatchObject({ visitors: 2, customers: 1, conversionRate: 0.5 });
    expect(await summary(site, END - 15 * DAY)).toMatchObject({ visitors: 2, customers: 1, conversionRate: 0.5 });
  });

  test("a profile's visitors on two devices are one person: one customer, one conversion", async () => {
    const site = await newSite("Two devices");
    await collect(site, TODAY - 3 * DAY, { u: "https://site.example/?utm_source=newsletter", v: "persisted_phone_f" });
    await collect(site, TODAY - DAY, { u: "https://site.example/?utm_source=newsletter", v: "persisted_laptop_f" });
    clock = TODAY;
    for (const visitorId of ["persisted_phone_f", "persisted_laptop_f"]) await api(site, "/identify", { method: "POST", json: { id: "user_f", email: "f@example.com", visitorId } });
    await api(site, "/payments", { method: "POST", json: { transactionId: "tx_f", amount: 2900, currency: "USD", email: "f@example.com", timestamp: TODAY - HOUR } });
    const source = await row(site, "attribution?groupBy=source", "newsletter", END - 7 * DAY);
    expect(source).toMatchObject({ visitors: 2, customers: 1, conversionRate: 1 });
  });
});

describe("the funnel counts people in journey order", () => {
  test("a site that never sends signup_started: the step is not tracked and skipped, nothing passes 100 %", async () => {
    const site = await newSite("No signup_started");
    await createLink(server.instance.ctx.storage, site.project.id, { destinationUrl: "https://site.example/", slug: "funnel-x", campaignId: "funnel" });
    // G: click → page → pricing → signup → pays. H: click → page. I: page only (no click). J: signs up before clicking.
    await collect(site, TODAY - 5 * HOUR, { u: await click("funnel-x", TODAY - 5 * HOUR), v: "persisted_visitor_g" });
    await collect(site, TODAY - 5 * HOUR + 60_000, { u: "https://site.example/pricing", v: "persisted_visitor_g" });
    await collect(site, TODAY - 5 * HOUR + 120_000, { n: "signup_completed", u: "https://site.example/welcome", v: "persisted_visitor_g" });
    await collect(site, TODAY - 4 * HOUR, { u: await click("funnel-x", TODAY - 4 * HOUR), v: "persisted_visitor_h" });
    await collect(site, TODAY - 3 * HOUR, { u: "https://site.example/", v: "persisted_visitor_i" });
    await collect(site, TODAY - 3 * HOUR, { n: "signup_completed", u: "https://site.example/welcome", v: "persisted_visitor_j" });
    await collect(site, TODAY - 2 * HOUR, { u: await click("funnel-x", TODAY - 2 * HOUR), v: "persisted_visitor_j" });
    clock = TODAY;
    await api(site, "/payments", { method: "POST", json: { transactionId: "tx_g", amount: 9900, currency: "USD", metadata: { visitorId: "persisted_visitor_g" }, timestamp: TODAY - 4 * HOUR } });

    const { steps } = await api<{ steps: { name: string; people: number | null; conversionFromPrevious: number | null; conversionFromFirst: number | null; tracked: boolean }[] }>(
      site,
      `/reports/funnel?${range(END - DAY, END)}`,
    );
    expect(steps).toEqual([
      { name: "link_clicked", people: 3, conversionFromPrevious: null, conversionFromFirst: 1, tracked: true },
      { name: "page_view", people: 3, conversionFromPrevious: 1, conversionFromFirst: 1, tracked: true },
      { name: "pricing_view", people: 1, conversionFromPrevious: 1 / 3, conversionFromFirst: 1 / 3, tracked: true },
      { name: "signup_started", people: null, conversionFromPrevious: null, conversionFromFirst: null, tracked: false },
      { name: "signup_completed", people: 1, conversionFromPrevious: 1, conversionFromFirst: 1 / 3, tracked: true },
      { name: "payment_completed", people: 1, conversionFromPrevious: 1, conversionFromFirst: 1 / 3, tracked: true },
    ]);
    const filtered = await api<{ steps: { people: number | null }[] }>(site, `/reports/funnel?${range(END - DAY, END)}&campaignId=nothing`);
    expect(filtered.steps.map((s) => s.people)).toEqual([0, 0, 0, null, 0, 0]);
  });
});

describe("bad report requests", () => {
  test("an unknown grouping or an empty range is refused with 400", async () => {
    const site = await newSite("Bad requests");
    for (const path of ["/reports/traffic?groupBy=planet", `/reports/summary?from=${END}&to=${END - DAY}`, "/reports/funnel?from=someday"]) {
      const response = await fetch(`${server.url}/api/v1${path}`, { headers: { authorization: `Bearer ${site.key}` } });
      expect(response.status).toBe(400);
    }
  });
});
