// The data pages in headless Chromium: creating a link with its live UTM preview, following it and
// seeing the click on the overview, reading a payment's explanation, hostile values shown as text.
// Also saves a screenshot of every page at desktop and phone width under screenshots/ (gitignored).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchBrowser } from "../../testing/browser.ts";
import { startTestServer, type TestServer } from "../../testing/harness.ts";
import { createUser } from "../../auth/users.ts";

const XSS = "<img src=x onerror=alert(1)>";
const EMAIL = "founder@example.com";
const PASSWORD = "correct horse battery";
const SCREENSHOTS = join(import.meta.dir, "../../../screenshots");

let server: TestServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const dialogs: string[] = [];
let base: string;

async function api(path: string, json: unknown): Promise<Record<string, unknown>> {
  const response = await server.api(`/api/v1${path}`, { method: "POST", json });
  if (response.status >= 300) throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as Record<string, unknown>;
}

async function statValue(label: string): Promise<string> {
  return (await page.locator(".stat", { has: page.locator(".label", { hasText: new RegExp(`^${label}$`) }) }).locator(".value").innerText()).trim();
}

beforeAll(async () => {
  server = await startTestServer();
  await createUser(server.instance.ctx.storage, { email: EMAIL, password: PASSWORD, role: "owner" });
  base = `${server.url}/dashboard/${server.project.id}`;
  browser = await launchBrowser();
  // Headless Chromium names itself "HeadlessChrome", which link tracking rightly treats as a bot; a person's browser does not.
  const userAgent = (await browser.newBrowserCDPSession().then((cdp) => cdp.send("Browser.getVersion"))).userAgent.replace("HeadlessChrome", "Chrome");
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, userAgent });
  page = await context.newPage();
  // Any alert() means a user-supplied value ran as script.
  page.on("dialog", async (dialog) => {
    dialogs.push(dialog.message());
    await dialog.dismiss();
  });
  await page.goto(`${server.url}/login`);
  await page.getByLabel("Email").fill(EMAIL);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/dashboard\//);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe("in a real browser", () => {
  test("creating a link previews its final URL while typing, then following it shows the click on the overview", async () => {
    await page.goto(`${base}/links/new`);
    await page.getByLabel("Destination URL").fill(`${server.url}/healthz`);
    await page.getByLabel("Title").fill(XSS);
    await page.getByLabel("Custom slug").fill("browser-launch");
    await page.getByLabel("Campaign").fill("spring_launch");
    await page.getByLabel("Source").fill("newsletter");
    await page.getByLabel("Medium").fill("email");
    await page.locator("#utm-preview").getByText("utm_campaign=spring_launch").waitFor();
    expect(await page.locator("#utm-preview").innerText()).toContain(`${server.url}/healthz?utm_source=newsletter&utm_medium=email&utm_campaign=spring_launch`);
    await page.getByRole("button", { name: "Create link" }).click();
    await page.waitForURL(/\/links\/lnk_/);
    // The hostile title is shown as text in the heading.
    expect(await page.locator("h1").innerText()).toBe(XSS);
    expect(await page.locator(".qr-box svg").count()).toBe(1);
    const shortUrl = `${server.url}/l/browser-launch`;
    expect(await page.locator(`button[data-copy="${shortUrl}"]`).count()).toBe(1);

    const visitor = await context.newPage();
    await visitor.goto(shortUrl);
    expect(visitor.url()).toMatch(new RegExp(`^${server.url}/healthz\\?utm_source=newsletter&utm_medium=email&utm_campaign=spring_launch&bt_click=\\w+$`));
    await visitor.close();

    await page.goto(`${base}?range=today`);
    expect(await statValue("Clicks")).toBe("1");
    // The top tables arrive after the page, each swapped in by htmx.
    await page.locator(".top-card", { hasText: "Top sources" }).locator("td", { hasText: "newsletter" }).waitFor();
    await page.waitForFunction(() => !document.querySelector("[aria-busy=true]"));
    expect(await page.locator(".top-card table").count()).toBe(4);
  }, 20_000);

  test("copying the short URL takes one click", async () => {
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
    await page.goto(`${base}/links`);
    const button = page.locator(`button[data-copy="${server.url}/l/browser-launch"]`);
    await button.click();
    await page.waitForFunction(() => document.querySelector("button[data-copy]")?.textContent === "Copied");
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(`${server.url}/l/browser-launch`);
  });

  test("a payment's explanation is readable from the ledger, and hostile metadata and props stay text", async () => {
    const linkId = (await server.storage.get<{ id: string }>("SELECT id FROM links WHERE slug = 'browser-launch'"))!.id;
    await api("/identify", { id: "user_7", email: "grace@example.com", name: XSS, visitorId: "visitor_grace_01" });
    await api("/events", { name: "signup_completed", visitorId: "visitor_grace_01", props: { plan: XSS } });
    await api("/payments", { transactionId: "tx_browser", amount: 4900, currency: "EUR", email: "grace@example.com", metadata: { linkId, note: XSS } });

    await page.goto(`${base}/payments?range=today`);
    await page.locator("table a", { hasText: /\d{4}/ }).first().click();
    await page.waitForURL(/\/payments\/pay_/);
    const trail = await page.locator("ol.trail").innerText();
    expect(trail).toContain(linkId);
    expect(await page.getByRole("heading", { name: /Attribution: Checkout metadata: link/ }).count()).toBe(1);
    expect(await page.locator("dl.facts dd code", { hasText: XSS }).count()).toBe(1);

    await page.goto(`${base}/live`);
    expect(await page.locator("#live-feed").innerText()).toContain(XSS);
    await page.goto(`${base}/profiles/user_7`);
    expect(await page.locator("h1").innerText()).toBe(XSS);
    expect(await page.locator("ol.journey").innerText()).toContain(XSS);
    expect(dialogs).toEqual([]);
    expect(await page.locator("img").count()).toBe(0);
  });

  test("the live view shows a new event without a reload", async () => {
    await page.goto(`${base}/live`);
    const marker = await page.evaluate(() => ((window as unknown as { marker: number }).marker = Math.random()));
    await api("/events", { name: "live_check_event", visitorId: "visitor_grace_01" });
    await page.locator("#live-feed", { hasText: "live_check_event" }).waitFor({ timeout: 8000 });
    expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(marker);
  }, 15_000);

  test("every data page renders at desktop and phone width (screenshots saved)", async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const linkId = (await server.storage.get<{ id: string }>("SELECT id FROM links WHERE slug = 'browser-launch'"))!.id;
    const paymentId = (await server.storage.get<{ id: string }>("SELECT id FROM payments LIMIT 1"))!.id;
    const pages: [string, string][] = [
      ["overview", "?range=today"],
      ["links", "/links"],
      ["link-new", "/links/new"],
      ["link", `/links/${linkId}?range=today`],
      ["campaigns", "/campaigns?range=today"],
      ["campaign", "/campaigns/spring_launch?range=today"],
      ["sources", "/sources?range=today"],
      ["leads", "/leads?range=today"],
      ["traffic", "/traffic?range=today"],
      ["traffic-devices", "/traffic?by=device&range=today"],
      ["funnel", "/funnel?range=today"],
      ["payments", "/payments?range=today"],
      ["payment", `/payments/${paymentId}`],
      ["profiles", "/profiles"],
      ["profile", "/profiles/user_7"],
      ["live", "/live"],
    ];
    for (const [width, label] of [[1280, "desktop"], [390, "phone"]] as const) {
      await page.setViewportSize({ width, height: width === 1280 ? 900 : 844 });
      for (const [name, path] of pages) {
        const response = await page.goto(`${base}${path}`);
        expect({ name, status: response?.status() }).toEqual({ name, status: 200 });
        await page.waitForFunction(() => !document.querySelector("[aria-busy=true]"));
        // Nothing may overflow the page sideways (tables scroll inside their own box).
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        expect({ name, label, overflow }).toEqual({ name, label, overflow: 0 });
        await page.screenshot({ path: join(SCREENSHOTS, `${name}-${label}.png`), fullPage: true });
      }
    }
    // Dark mode: charts draw in currentColor and the theme's colours, so they follow the scheme.
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.emulateMedia({ colorScheme: "dark" });
    for (const [name, path] of [["overview", "?range=today"], ["funnel", "/funnel?range=today"], ["link", `/links/${linkId}?range=today`]] as const) {
      await page.goto(`${base}${path}`);
      await page.waitForFunction(() => !document.querySelector("[aria-busy=true]"));
      const [text, background] = await page.evaluate(() => [getComputedStyle(document.body).color, getComputedStyle(document.body).backgroundColor]);
      expect(text).not.toBe(background);
      await page.screenshot({ path: join(SCREENSHOTS, `${name}-desktop-dark.png`), fullPage: true });
    }
    await page.emulateMedia({ colorScheme: "light" });
    expect(dialogs).toEqual([]);
  }, 120_000);
});
