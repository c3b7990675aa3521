// End to end in headless Chromium: a site on a second loopback port loads /bantico.js cross-origin.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, BrowserContext } from "playwright-core";
import { launchBrowser } from "../testing/browser.ts";
import { eventually, startTestServer, type TestServer } from "../testing/harness.ts";

const DESKTOP_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36";
let server: TestServer;
let site: ReturnType<typeof Bun.serve>;
let browser: Browser;
let proxied = 0;

function page(snippet: string): string {
  return `<!doctype html><html><head><title>Site</title>
<script>
  window.bantico = window.bantico || { q: [] };
  ["identify", "track"].forEach(function (m) { bantico[m] = bantico[m] || function () { bantico.q.push([m].concat([].slice.call(arguments))) } });
  bantico.track("queued_before_load", { early: true });
</script>
${snippet}
</head><body>
<button id="spa" onclick="history.pushState({}, '', '/pricing')">Pricing</button>
<a id="out" href="http://localhost:${server.port}/healthz">Elsewhere</a>
</body></html>`;
}

beforeAll(async () => {
  server = await startTestServer();
  const script = `${server.url}/bantico.js`;
  const token = server.project.token;
  site = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const path = new URL(request.url).pathname;
      if (path === "/proxy/collect") {
        // A first-party proxy, as data-api is meant for: the site forwards the tracker's events.
        proxied++;
        const forwarded = await fetch(`${server.url}/api/collect`, { method: "POST", body: await request.text(), headers: { "user-agent": request.headers.get("user-agent") ?? "" } });
        return new Response(forwarded.body, { status: forwarded.status, headers: { "content-type": "application/json" } });
      }
      const html = path.startsWith("/proxied")
        ? page(`<script src="${script}" data-token="${token}" data-api="/proxy/collect"></script>`)
        : path.startsWith("/persist")
        ? page(`<script src="${script}" data-token="${token}" data-persist></script>`)
        : path.startsWith("/vitals")
          ? page(`<script src="${script}" data-token="${token}" data-vitals></script>`)
          : page(`<script>window.BANTICO_TOKEN = "${token}";</script><script src="${script}"></script>`);
      return new Response(html, { headers: { "content-type": "text/html" } });
    },
  });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  site?.stop(true);
  await server?.close();
});

const siteUrl = (path: string) => `http://127.0.0.1:${site.port}${path}`;

async function newContext(options: { privacySignal?: "gpc" | "dnt"; userAgent?: string } = {}): Promise<BrowserContext> {
  const context = await browser.newContext({ userAgent: options.userAgent ?? DESKTOP_UA });
  const signals = {
    gpc: 'Object.defineProperty(Navigator.prototype, "globalPrivacyControl", { get: () => true });',
    dnt: 'Object.defineProperty(Navigator.prototype, "doNotTrack", { get: () => "1" });',
  };
  // Automation announces itself through navigator.webdriver, which the tracker respects; these tests are the visitor.
  await context.addInitScript(
    `Object.defineProperty(Navigator.prototype, "webdriver", { get: () => false });${options.privacySignal ? signals[options.privacySignal] : ""}`,
  );
  return context;
}

/** Events reach the database a while after the page sends them: a browser on a loaded machine is slow. */
const PAGE_WAIT_MS = 10_000;

const eventsOf = (sessionId: string) =>
  server.storage.all<{ name: string; path: string; link_id: string | null; lead_id: string | null; profile_id: string | null; props: string | null }>(
    "SELECT name, path, link_id, lead_id, profile_id, props FROM events WHERE session_id = ? ORDER BY id",
    [sessionId],
  );

const automatedEvents = async () => (await server.storage.get<{ n: number }>("SELECT count(*) AS n FROM events WHERE path = '/automated'"))!.n;

describe("the tracker in a browser", () => {
  test("a tracked link lands with bt_click, and the whole journey is stored with the link's context, without a cookie", async () => {
    const created = await server.api("/api/v1/links", {
      method: "POST",
      json: { destinationUrl: siteUrl("/landing?ref=1"), campaignId: "e2e", source: "newsletter", leadId: "lead_e2e" },
    });
    const link = (await created.json()) as { linkId: string; shortUrl: string };
    const context = await newContext();
    try {
      const tab = await context.newPage();
      await tab.goto(link.shortUrl);
      expect(new URL(tab.url()).searchParams.get("utm_campaign")).toBe("e2e");

      await tab.waitForFunction(() => (window as any).bantico.context().linkId !== "");
      const ids = await tab.evaluate(() => (window as any).bantico.context());
      expect(ids).toMatchObject({ linkId: link.linkId, campaignId: "e2e", source: "newsletter", medium: "", content: "", leadId: "lead_e2e" });
      expect(ids.visitorId).not.toBe("");
      expect(ids.sessionId).toStartWith("ses_");

      await tab.click("#spa");
      await tab.goBack();
      await tab.waitForURL(/\/landing/);
      await tab.evaluate(() => {
        const bantico = (window as any).bantico;
        bantico.identify({ id: "user_e2e", email: " E2E@Example.com ", plan: "team" });
        bantico.track("signup_started", { form: "hero" });
      });
      await eventually(async () => (await eventsOf(ids.sessionId)).some((e) => e.name === "signup_started"), "the custom event", PAGE_WAIT_MS);
      await tab.click("#out");
      const events = await eventually(async () => {
        const all = await eventsOf(ids.sessionId);
        return all.some((e) => e.name === "outgoing_click") ? all : null;
      }, "the outgoing click", PAGE_WAIT_MS);

      const names = events.map((e) => e.name);
      expect(names).toEqual(expect.arrayContaining(["page_view", "queued_before_load", "pricing_view", "identify", "signup_started", "outgoing_click"]));
      expect(events.filter((e) => e.name === "page_view").map((e) => e.path)).toEqual(["/landing", "/pricing", "/landing"]);
      expect(events.every((e) => e.link_id === link.linkId && e.lead_id === "lead_e2e")).toBe(true);
      expect(JSON.parse(events.find((e) => e.name === "outgoing_click")!.props!)).toEqual({ url: `http://localhost:${server.port}/healthz` });
      expect(events.find((e) => e.name === "signup_started")!.profile_id).toBe("user_e2e");
      expect(await server.storage.get("SELECT email FROM profiles WHERE id = 'user_e2e'")).toEqual({ email: "e2e@example.com" });
      expect(await context.cookies()).toEqual([]);
    } finally {
      await context.close();
    }
  });

  test("bt_click leaves the address bar once read, keeping the rest of the query and the fragment, so a copied URL credits nobody", async () => {
    const created = await server.api("/api/v1/links", {
      method: "POST",
      json: { destinationUrl: siteUrl("/landing/copied?ref=1&q=a%20b+c&empty=#section-2"), campaignId: "copied", source: "forum" },
    });
    const link = (await created.json()) as { linkId: string; shortUrl: string };
    // Visitors of their own (cookieless ids hash the user agent), so their time on page lands in no other test's session.
    const context = await newContext({ userAgent: DESKTOP_UA.replace("141.0", "139.0") });
    try {
      const tab = await context.newPage();
      const landing = await tab.goto(`${link.shortUrl}?via=share`);
      const redirect = await landing!.request().redirectedFrom()!.response();
      expect(new URL(redirect!.headers().location!).searchParams.get("bt_click")).toMatch(/^[A-Za-z0-9]+$/);

      await tab.waitForFunction(() => (window as any).bantico.context().linkId !== "");
      const { sessionId, linkId } = await tab.evaluate(() => (window as any).bantico.context());
      expect(linkId).toBe(link.linkId);
      const address = new URL(tab.url());
      expect(address.searchParams.has("bt_click")).toBe(false);
      expect(address.search).toBe("?ref=1&q=a%20b+c&empty=&via=share&utm_source=forum&utm_campaign=copied");
      expect(address.pathname).toBe("/landing/copied");
      expect(address.hash).toBe("#section-2");
      // Cleaning the address is not a navigation: one page view, and no history entry with bt_click to go back to.
      await tab.evaluate(() => (window as any).bantico.track("read_on"));
      await eventually(async () => (await eventsOf(sessionId)).some((e) => e.name === "read_on"), "the event sent after cleaning", PAGE_WAIT_MS);
      const events = await eventsOf(sessionId);
      expect(events.filter((e) => e.name === "page_view")).toHaveLength(1);
      expect(events.every((e) => e.link_id === link.linkId)).toBe(true);
      expect(await tab.evaluate(() => history.length)).toBe(2); // about:blank, then the landing page
      // A reload in the same tab still belongs to the link's session.
      await tab.reload();
      await tab.waitForFunction(() => (window as any).bantico.context().sessionId !== "");
      expect(await tab.evaluate(() => (window as any).bantico.context().sessionId)).toBe(sessionId);
      expect(new URL(tab.url()).searchParams.has("bt_click")).toBe(false);

      // Someone else opens the copied URL: their visit is not credited to the link.
      const other = await newContext({ userAgent: DESKTOP_UA.replace("141.0", "138.0") });
      try {
        const copied = await other.newPage();
        await copied.goto(tab.url());
        await copied.waitForFunction(() => (window as any).bantico.context().sessionId !== "");
        const theirs = await copied.evaluate(() => (window as any).bantico.context());
        expect(theirs.linkId).toBe("");
        expect((await eventsOf(theirs.sessionId)).every((e) => e.link_id === null)).toBe(true);
      } finally {
        await other.close();
      }
    } finally {
      await context.close();
    }
  });

  test("data-persist keeps the visitor across a new tab with first-party cookies", async () => {
    const context = await newContext();
    try {
      const first = await context.newPage();
      await first.goto(siteUrl("/persist/"));
      await first.waitForFunction(() => (window as any).bantico.context().sessionId !== "");
      const firstIds = await first.evaluate(() => (window as any).bantico.context());
      const cookies = await context.cookies(siteUrl("/"));
      expect(cookies.map((c) => c.name).sort()).toEqual(["bantico_sid", "bantico_vid"]);
      expect(cookies.find((c) => c.name === "bantico_vid")!.value).toBe(firstIds.visitorId);

      // A different user agent would give a different cookieless id: only the cookie can carry the visitor over.
      const second = await context.newPage();
      await second.setExtraHTTPHeaders({ "user-agent": DESKTOP_UA.replace("141.0", "140.0") });
      await second.goto(siteUrl("/persist/other"));
      await second.waitForFunction(() => (window as any).bantico.context().sessionId !== "");
      const secondIds = await second.evaluate(() => (window as any).bantico.context());
      expect(secondIds.visitorId).toBe(firstIds.visitorId);
      expect(secondIds.sessionId).toBe(firstIds.sessionId);
    } finally {
      await context.close();
    }
  });

  for (const privacySignal of ["gpc", "dnt"] as const) {
    test(`under ${privacySignal === "gpc" ? "Global Privacy Control" : "Do Not Track"} no cookie is set even with data-persist, and page views are still counted`, async () => {
      const context = await newContext({ privacySignal });
      try {
        const tab = await context.newPage();
        await tab.goto(siteUrl(`/persist/${privacySignal}`));
        await tab.waitForFunction(() => (window as any).bantico.context().sessionId !== "");
        const { sessionId } = await tab.evaluate(() => (window as any).bantico.context());
        expect((await eventsOf(sessionId)).map((e) => e.path)).toContain(`/persist/${privacySignal}`);
        expect(await context.cookies()).toEqual([]);
      } finally {
        await context.close();
      }
    });
  }

  test("where storage and cookies are denied, page views are still counted", async () => {
    const context = await newContext();
    await context.addInitScript(`
      const deny = () => { throw new DOMException("denied", "SecurityError"); };
      Object.defineProperty(window, "sessionStorage", { get: deny });
      Object.defineProperty(Document.prototype, "cookie", { get: deny, set: deny });
    `);
    try {
      const tab = await context.newPage();
      await tab.goto(siteUrl("/persist/denied"));
      await tab.waitForFunction(() => (window as any).bantico.context().sessionId !== "");
      const { sessionId } = await tab.evaluate(() => (window as any).bantico.context());
      expect((await eventsOf(sessionId)).map((e) => e.path)).toContain("/persist/denied");
    } finally {
      await context.close();
    }
  });

  test("data-api sends the events through a first-party proxy", async () => {
    const context = await newContext();
    try {
      const before = proxied;
      const tab = await context.newPage();
      await tab.goto(siteUrl("/proxied/page"));
      await tab.waitForFunction(() => (window as any).bantico.context().sessionId !== "");
      const { sessionId } = await tab.evaluate(() => (window as any).bantico.context());
      expect(proxied).toBeGreaterThan(before);
      expect((await eventsOf(sessionId)).map((e) => e.path)).toContain("/proxied/page");
    } finally {
      await context.close();
    }
  });

  test("when the page is hidden, time on page is sent as engagement and data-vitals reports web vitals", async () => {
    const context = await newContext();
    // A script's load event fires after it ran: then the vitals add-on listens for the page being hidden.
    await context.addInitScript(`document.addEventListener("load", (event) => {
      if (event.target.src && event.target.src.endsWith("/bantico-vitals.js")) window.vitalsLoaded = true;
    }, true);`);
    try {
      const tab = await context.newPage();
      await tab.goto(siteUrl("/vitals/page"));
      await tab.waitForFunction(() => (window as any).bantico.context().sessionId !== "");
      await tab.waitForFunction(() => (window as any).vitalsLoaded === true && performance.getEntriesByType("paint").length > 0);
      await tab.waitForLoadState("networkidle");
      const { sessionId } = await tab.evaluate(() => (window as any).bantico.context());
      // Other tests' pages share this cookieless visitor (same address and user agent) and report their own time when closed.
      const isThisPagesEngagement = (e: { name: string; path: string }) => e.name === "engagement" && e.path === "/vitals/page";
      // Hiding the tab five seconds later, without making the test wait five seconds.
      await tab.evaluate(() => {
        const realNow = Date.now;
        Date.now = () => realNow() + 5000;
        Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
        document.dispatchEvent(new Event("visibilitychange"));
      });
      const events = await eventually(async () => {
        const all = await eventsOf(sessionId);
        return all.some((e) => e.name === "web_vitals") && all.some(isThisPagesEngagement) ? all : null;
      }, "engagement and web vitals", PAGE_WAIT_MS);
      const engagement = JSON.parse(events.find(isThisPagesEngagement)!.props!) as { ms: number };
      expect(engagement.ms).toBeGreaterThanOrEqual(5000);
      const vitals = JSON.parse(events.find((e) => e.name === "web_vitals")!.props!) as Record<string, number>;
      expect(vitals.ttfb).toBeNumber();
      expect(vitals.fcp).toBeNumber();
    } finally {
      await context.close();
    }
  });

  test("a browser driven by automation is not counted", async () => {
    const context = await browser.newContext({ userAgent: DESKTOP_UA });
    try {
      const before = await automatedEvents();
      const tab = await context.newPage();
      await tab.goto(siteUrl("/automated"));
      await tab.evaluate(() => (window as any).bantico.track("still_automated"));
      await tab.waitForLoadState("networkidle");
      expect(await tab.evaluate(() => navigator.webdriver)).toBe(true);
      expect(await automatedEvents()).toBe(before);
    } finally {
      await context.close();
    }
  });
});
