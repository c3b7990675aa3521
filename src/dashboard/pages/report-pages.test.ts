// The report-driven dashboard pages from a real server on each engine: a few visits through the tracker
// and a payment through the API, then every page answers 200 with the hand-counted figures in its HTML.
// On PostgreSQL each page primes what it reads before the render SQLite runs (rollups.ts).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ENGINES } from "../../testing/engines.ts";
import { startTestServer, type TestServer } from "../../testing/harness.ts";
import { userWithRole, type DashboardClient } from "../test-client.ts";

const UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15";
const HOUR_MS = 3_600_000;
// Mid-afternoon UTC (the project's time zone), so "today" holds every visit.
const NOW = Date.UTC(2026, 4, 20, 15, 7);

const tile = (label: string, value: string) => new RegExp(`<div class="label">${label}</div><div class="value">(<span[^>]*>)?${value.replace(/[$.]/g, "\\$&")}(</span>)?</div>`);

for (const engine of ENGINES) {
  describe(`report pages (${engine})`, () => {
    let server: TestServer;
    let client: DashboardClient;
    let clock = NOW - 3 * HOUR_MS;
    const page = async (path: string) => {
      const response = await client.get(`/dashboard/${server.project.id}${path}`);
      const body = await response.text();
      expect({ path, status: response.status }).toEqual({ path, status: 200 });
      return body;
    };

    beforeAll(async () => {
      server = await startTestServer({ engine, now: () => clock });
      const collect = (visitor: string, url: string, referrer: string | null = null) =>
        fetch(`${server.url}/api/collect`, {
          method: "POST",
          body: JSON.stringify({ t: server.project.token, n: "page_view", u: url, v: visitor, r: referrer }),
          headers: { "content-type": "text/plain", "user-agent": UA },
        }).then((r) => expect(r.status).toBe(200));
      // ann from the spring newsletter, then pricing; ben from news.example to the docs; cat to the home page.
      await collect("visitor_ann", "https://shop.example/?utm_source=newsletter&utm_campaign=spring");
      clock += 60_000;
      await collect("visitor_ann", "https://shop.example/pricing");
      clock += 60_000;
      await collect("visitor_ben", "https://shop.example/docs", "https://news.example/post");
      clock += 60_000;
      await collect("visitor_cat", "https://shop.example/");
      clock = NOW - HOUR_MS;
      // ann pays 49.00 with 4.00 tax: 45.00 net, credited to the newsletter and the spring campaign.
      const paid = await server.api("/api/v1/payments", { method: "POST", json: { transactionId: "order_ann", amount: 4900, tax: 400, currency: "USD", metadata: { visitorId: "visitor_ann" } } });
      expect(paid.status).toBe(201);
      clock = NOW;
      client = await userWithRole(server, "viewer");
    }, 60_000);
    afterAll(async () => {
      await server?.close();
    });

    test("the overview's tiles over the last 30 days (folded days) and today (hourly rows)", async () => {
      for (const range of ["", "?range=today"]) {
        const html = await page(range);
        expect(html).toMatch(tile("Visitors", "3"));
        expect(html).toMatch(tile("Customers", "1"));
        expect(html).toMatch(tile("Net revenue", "$45.00"));
        expect(html).toContain("Net revenue (USD)");
      }
    });

    test("the overview's top tables", async () => {
      const sources = await page("/overview/sources");
      expect(sources).toContain("newsletter");
      expect(sources).toContain("$45.00");
      expect(await page("/overview/campaigns")).toContain("spring");
      expect(await page("/overview/referrers")).toContain("news.example");
      await page("/overview/countries");
    });

    test("the attribution report pages and a drill-down", async () => {
      const sources = await page("/sources");
      expect(sources).toContain("newsletter");
      expect(sources).toContain("$45.00");
      expect(await page("/campaigns?model=first")).toContain("spring");
      for (const path of ["/mediums", "/contents", "/leads"]) await page(path);
      for (const range of ["", "?range=today"]) {
        const drill = await page(`/sources/newsletter${range}`);
        expect(drill).toMatch(tile("Visitors", "1"));
        expect(drill).toMatch(tile("Net revenue", "$45.00"));
      }
    });

    test("the traffic page by page and by referrer", async () => {
      const pages = await page("/traffic");
      for (const text of ["/pricing", "/docs", "$45.00"]) expect(pages).toContain(text);
      expect(await page("/traffic?by=referrer")).toContain("news.example");
      await page("/traffic?by=country&range=today");
    });

    test("the funnel: three visited, one paid", async () => {
      const html = await page("/funnel");
      expect(html).toContain("Visited the site");
      expect(html).toMatch(/Visited the site <code[^>]*>page_view<\/code><\/td><td[^>]*>3<\/td>/);
      expect(html).toMatch(/Paid <code[^>]*>payment_completed<\/code><\/td><td[^>]*>1<\/td>/);
      await page("/funnel?source=newsletter");
    });
  });
}
