// The whole journey in headless Chromium: tracked link → page view → identify → checkout, with the
// site's server putting `bantico.context()` into Stripe checkout metadata, and Stripe's webhook
// (signed with Stripe's own helper) arriving at Bantico.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchBrowser } from "../testing/browser.ts";
import { startTestServer, type TestServer } from "../testing/harness.ts";
import { checkoutSession, sendStripe, stripeEvent } from "./testing.ts";
import { listPayments } from "./service.ts";

const SECRET = "whsec_browser_journey";
const DESKTOP_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36";
let server: TestServer;
let site: ReturnType<typeof Bun.serve>;
let browser: Browser;

/** The founder's site: pages with the snippet, and a checkout endpoint that "creates" the Stripe session. */
function startSite() {
  return Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      if (url.pathname === "/checkout" && request.method === "POST") {
        const { email, context } = (await request.json()) as { email: string; context: Record<string, string> | null };
        // What the founder's server does: the tracker's context goes into checkout metadata; Stripe sends it back.
        const session = checkoutSession({ amount_total: 4900, customer_details: { email }, metadata: context ?? {} });
        const delivered = await sendStripe(server.url, server.project.id, stripeEvent("checkout.session.completed", session), SECRET);
        return Response.json({ status: delivered.status, sessionId: session.id });
      }
      const html = `<!doctype html><html><head><title>Shop</title>
<script src="${server.url}/bantico.js" data-token="${server.project.token}"></script></head>
<body><a href="/pricing">Pricing</a></body></html>`;
      return new Response(html, { headers: { "content-type": "text/html" } });
    },
  });
}

beforeAll(async () => {
  server = await startTestServer();
  expect((await server.api("/api/v1/integrations/stripe", { method: "PUT", json: { webhookSecret: SECRET } })).status).toBe(200);
  site = startSite();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  site?.stop(true);
  await server?.close();
});

let visitors = 0;
/** A new visitor: cookieless ids hash IP and user agent, so each test's browser gets its own user agent. */
async function visitor(): Promise<BrowserContext> {
  visitors += 1;
  const context = await browser.newContext({ userAgent: DESKTOP_UA.replace("141.0.0.0", `141.0.0.${visitors}`) });
  await context.addInitScript(`Object.defineProperty(Navigator.prototype, "webdriver", { get: () => false });`);
  return context;
}

async function createLink(json: Record<string, string>): Promise<{ linkId: string; shortUrl: string }> {
  const response = await server.api("/api/v1/links", { method: "POST", json: { destinationUrl: `http://127.0.0.1:${site.port}/landing`, ...json } });
  expect(response.status).toBe(201);
  return response.json();
}

async function landOn(tab: Page, url: string) {
  await tab.goto(url);
  await tab.waitForFunction(() => (window as any).bantico.context().sessionId !== "");
}

async function eventually<T>(read: () => T, what: string): Promise<NonNullable<T>> {
  for (let i = 0; i < 200; i++) {
    const value = read();
    if (value) return value as NonNullable<T>;
    await Bun.sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const identified = (email: string) => () => server.instance.ctx.db.query("SELECT id FROM profiles WHERE email = ?").get(email);
const paymentOf = (sessionId: string) => listPayments(server.instance.ctx.db, server.project.id, { limit: 1000 }).payments.find((p) => p.providerIds.checkoutSessionId === sessionId);
const checkout = (tab: Page, email: string, withContext: boolean) =>
  tab.evaluate(
    async ({ email, withContext }) => {
      const context = withContext ? (window as any).bantico.context() : null;
      const response = await fetch("/checkout", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email, context }) });
      return (await response.json()) as { status: number; sessionId: string };
    },
    { email, withContext },
  );

describe("a visitor's journey to a payment", () => {
  test("a checkout carrying bantico.context() in its metadata is attributed by metadata_link", async () => {
    const link = await createLink({ campaignId: "journey", source: "newsletter", leadId: "lead_journey" });
    const context = await visitor();
    try {
      const tab = await context.newPage();
      await landOn(tab, link.shortUrl);
      await tab.click("a[href='/pricing']");
      await tab.waitForFunction(() => (window as any).bantico.context().linkId !== "");
      await tab.evaluate(() => (window as any).bantico.identify({ id: "user_journey", email: "journey@example.com" }));
      await eventually(identified("journey@example.com"), "the identify");
      const paid = await checkout(tab, "journey@example.com", true);
      expect(paid.status).toBe(200);
      const payment = paymentOf(paid.sessionId)!;
      expect(payment.attribution).toMatchObject({ method: "metadata_link", linkId: link.linkId, campaignId: "journey", source: "newsletter", leadId: "lead_journey" });
      const { visitorId } = await tab.evaluate(() => (window as any).bantico.context());
      const journey = server.instance.ctx.db
        .query<{ name: string; link_id: string | null; props: string | null }, [string]>("SELECT name, link_id, props FROM events WHERE visitor_id = ? ORDER BY ts, id")
        .all(visitorId);
      expect(journey.map((e) => e.name)).toEqual(expect.arrayContaining(["page_view", "pricing_view", "identify", "payment_completed"]));
      const completed = journey.find((e) => e.name === "payment_completed")!;
      expect(completed.link_id).toBe(link.linkId);
      expect(JSON.parse(completed.props!)).toMatchObject({ paymentId: payment.id, amount: 4900, currency: "USD" });
    } finally {
      await context.close();
    }
  });

  test("a checkout without metadata is attributed through the identified email", async () => {
    const link = await createLink({ campaignId: "no_metadata", source: "podcast" });
    const context = await visitor();
    try {
      const tab = await context.newPage();
      await landOn(tab, link.shortUrl);
      await tab.evaluate(() => (window as any).bantico.identify({ id: "user_email", email: "Email.Only@Example.com" }));
      await eventually(identified("email.only@example.com"), "the identify");
      const paid = await checkout(tab, "email.only@example.com", false);
      const payment = paymentOf(paid.sessionId)!;
      expect(payment.attribution).toMatchObject({ method: "identify_email", linkId: link.linkId, campaignId: "no_metadata", source: "podcast" });
      expect(payment.attribution.explanation).toContain("email.only@example.com");
    } finally {
      await context.close();
    }
  });

  test("a payment made before the visitor identified is re-attributed when they do", async () => {
    const link = await createLink({ campaignId: "late_identify" });
    const context = await visitor();
    try {
      const tab = await context.newPage();
      await landOn(tab, link.shortUrl);
      const paid = await checkout(tab, "late@example.com", false);
      expect(paymentOf(paid.sessionId)!.attribution.method).toBe("unattributed");
      await tab.evaluate(() => (window as any).bantico.identify({ id: "user_late", email: "late@example.com" }));
      const payment = await eventually(() => {
        const p = paymentOf(paid.sessionId)!;
        return p.attribution.method === "identify_email" ? p : null;
      }, "the re-attribution");
      expect(payment.attribution).toMatchObject({ linkId: link.linkId, campaignId: "late_identify" });
    } finally {
      await context.close();
    }
  });
});
