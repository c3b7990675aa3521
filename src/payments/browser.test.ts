// The whole journey in headless Chromium: tracked link → page view → identify → checkout, with the
// site's server putting `bantico.context()` into Stripe checkout metadata, and Stripe's webhook
// (signed with Stripe's own helper) arriving at Bantico; and no-code checkout links, which the
// tracker's add-on gives the visitor id in the provider's own parameter.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchBrowser } from "../testing/browser.ts";
import { eventually, startTestServer, type TestServer } from "../testing/harness.ts";
import { bodySignature, checkoutSession, lemonEvent, lemonOrder, sendStripe, sendWebhook, stripeEvent } from "./testing.ts";
import { loadPayments } from "./service.ts";

const SECRET = "whsec_browser_journey";
const LEMON_SECRET = "lemon-checkout-links";
const STRIPE_LINK = "https://buy.stripe.com/test_eVa3cd8Yw0Hv?prefilled_email=a%40b.c";
const LEMON_LINK = "https://shop.lemonsqueezy.com/checkout/buy/5b8c8c3e-variant";
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
      // Pages with no-code checkout links, with or without the snippet's opt-out.
      const optOut = url.pathname.startsWith("/opt-out") ? " data-no-checkout-links" : "";
      const html = `<!doctype html><html><head><title>Shop</title>
<script src="${server.url}/bantico.js" data-token="${server.project.token}"${optOut}></script></head>
<body><a href="/pricing">Pricing</a> <a id="stripe" href="${STRIPE_LINK}">Buy with Stripe</a> <a id="lemon" href="${LEMON_LINK}">Buy with Lemon Squeezy</a></body></html>`;
      return new Response(html, { headers: { "content-type": "text/html" } });
    },
  });
}

beforeAll(async () => {
  server = await startTestServer();
  expect((await server.api("/api/v1/integrations/stripe", { method: "PUT", json: { webhookSecret: SECRET } })).status).toBe(200);
  expect((await server.api("/api/v1/integrations/lemonsqueezy", { method: "PUT", json: { webhookSecret: LEMON_SECRET } })).status).toBe(200);
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

const identified = (email: string) => () => server.storage.get("SELECT id FROM profiles WHERE email = ?", [email]);
const paymentOf = async (sessionId: string) => (await loadPayments(server.storage, server.project.id, { limit: 1000 })).payments.find((p) => p.providerIds.checkoutSessionId === sessionId);
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
      const payment = (await paymentOf(paid.sessionId))!;
      expect(payment.attribution).toMatchObject({ method: "metadata_link", linkId: link.linkId, campaignId: "journey", source: "newsletter", leadId: "lead_journey" });
      const { visitorId } = await tab.evaluate(() => (window as any).bantico.context());
      const journey = await server.storage.all<{ name: string; link_id: string | null; props: string | null }>("SELECT name, link_id, props FROM events WHERE visitor_id = ? ORDER BY ts, id", [
        visitorId,
      ]);
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
      const payment = (await paymentOf(paid.sessionId))!;
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
      expect((await paymentOf(paid.sessionId))!.attribution.method).toBe("unattributed");
      await tab.evaluate(() => (window as any).bantico.identify({ id: "user_late", email: "late@example.com" }));
      const payment = await eventually(async () => {
        const p = (await paymentOf(paid.sessionId))!;
        return p.attribution.method === "identify_email" ? p : null;
      }, "the re-attribution");
      expect(payment.attribution).toMatchObject({ linkId: link.linkId, campaignId: "late_identify" });
    } finally {
      await context.close();
    }
  });
});

/** Follows a checkout link; the provider's page is stubbed, and the URL the browser asked for is returned. */
async function follow(tab: Page, selector: string, host: string): Promise<URL> {
  let requested: URL | null = null;
  await tab.route(`https://${host}/**`, (route) => {
    requested = new URL(route.request().url());
    return route.fulfill({ contentType: "text/html", body: "<title>Checkout</title>" });
  });
  await tab.click(selector);
  return eventually(() => requested, `the ${host} checkout`);
}

/** Waits until the tracker knows the visitor and its checkout links add-on has run. */
async function checkoutLinksReady(tab: Page) {
  await tab.waitForFunction(() => (window as any).bantico.context().visitorId !== "" && document.querySelector("script[src$='/bantico-checkout.js']") !== null);
  await tab.waitForLoadState("load");
}

describe("checkout links without server code", () => {
  test("a Stripe Payment Link and a Lemon Squeezy link get the visitor id, and their webhooks are attributed by session", async () => {
    const context = await visitor();
    try {
      const tab = await context.newPage();
      const link = await createLink({ campaignId: "nocode", source: "twitter" });
      await tab.goto(link.shortUrl);
      await checkoutLinksReady(tab);
      const { visitorId } = await tab.evaluate(() => (window as any).bantico.context());
      const landing = tab.url();

      const stripeUrl = await follow(tab, "#stripe", "buy.stripe.com");
      const reference = stripeUrl.searchParams.get("client_reference_id")!;
      expect(reference).toMatch(/^[A-Za-z0-9_-]{1,200}$/);
      expect(reference).toBe(visitorId.replace(/[^\w-]/g, ""));
      expect(stripeUrl.searchParams.get("prefilled_email")).toBe("a@b.c");
      // What Stripe sends after the Payment Link's checkout: the reference, no metadata.
      const session = checkoutSession({ client_reference_id: reference, metadata: {}, customer_details: { email: "nocode@example.com" } });
      expect((await sendStripe(server.url, server.project.id, stripeEvent("checkout.session.completed", session), SECRET)).status).toBe(200);
      expect((await paymentOf(session.id))!.attribution).toMatchObject({ method: "session", linkId: link.linkId, campaignId: "nocode", source: "twitter" });

      // Back on the landing page (a goto: going back across the cross-site checkout sometimes found the page detached).
      await tab.goto(landing);
      await checkoutLinksReady(tab);

      // Links a page adds later get it too, each in its provider's parameter (PROVIDERS.md); other links are left alone.
      const decorated = await tab.evaluate(() =>
        [
          "https://buy.polar.sh/polar_cl_4NkR2",
          "https://www.creem.io/payment/prod_6tW66",
          "https://checkout.dodopayments.com/buy/pdt_8Ns?quantity=1",
          "https://polar.sh/acme",
          "https://docs.stripe.com/payment-links",
        ].map((href) => {
          const a = document.createElement("a");
          a.href = href;
          a.addEventListener("click", (event) => event.preventDefault());
          document.body.appendChild(a);
          a.click();
          return a.href;
        }),
      );
      expect(decorated).toEqual([
        `https://buy.polar.sh/polar_cl_4NkR2?reference_id=${reference}`,
        `https://www.creem.io/payment/prod_6tW66?${new URLSearchParams({ "metadata[bantico_visitor]": reference })}`,
        `https://checkout.dodopayments.com/buy/pdt_8Ns?quantity=1&metadata_bantico_visitor=${reference}`,
        "https://polar.sh/acme",
        "https://docs.stripe.com/payment-links",
      ]);
      const lemonUrl = await follow(tab, "#lemon", "shop.lemonsqueezy.com");
      const carried = lemonUrl.searchParams.get("checkout[custom][bantico_visitor]")!;
      expect(carried).toBe(reference);
      // Lemon Squeezy returns checkout[custom][…] as meta.custom_data in its webhook.
      const order = lemonOrder({ user_email: "nocode.lemon@example.com" });
      const body = JSON.stringify(lemonEvent("order_created", order, { bantico_visitor: carried }));
      expect((await sendWebhook(server.url, "lemonsqueezy", server.project.id, body, { "x-signature": bodySignature(body, LEMON_SECRET) })).status).toBe(200);
      const lemonPayment = (await loadPayments(server.storage, server.project.id, { provider: "lemonsqueezy", limit: 1000 })).payments.find((p) => p.providerIds.orderId === order.id);
      expect(lemonPayment!.attribution).toMatchObject({ method: "session", linkId: link.linkId, campaignId: "nocode" });
    } finally {
      await context.close();
    }
  });

  test("data-no-checkout-links leaves checkout links as they are", async () => {
    const context = await visitor();
    try {
      const tab = await context.newPage();
      await tab.goto(`http://127.0.0.1:${site.port}/opt-out`);
      await tab.waitForFunction(() => (window as any).bantico.context().visitorId !== "");
      expect(await tab.evaluate(() => document.querySelector("script[src$='/bantico-checkout.js']"))).toBeNull();
      const stripeUrl = await follow(tab, "#stripe", "buy.stripe.com");
      expect(stripeUrl.searchParams.has("client_reference_id")).toBe(false);
    } finally {
      await context.close();
    }
  });
});
