// The dashboard in headless Chromium: setup (with the link from the log) → snippet → sign out/in → settings → API key shown once,
// markup typed by a user shown as text, and screenshots of each page at desktop and phone width.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { launchBrowser } from "../testing/browser.ts";
import { startTestServer, type TestServer } from "../testing/harness.ts";
import { setProviderEndpoints } from "../payments/endpoints.ts";
import { checkoutSession, stripeEvent } from "../payments/testing.ts";
import { fakeStripe, STRIPE_KEY } from "./test-client.ts";
import { createApiKey } from "../auth/api-keys.ts";

const SCREENSHOTS = join(import.meta.dir, "../../screenshots");
const EVIL = `<img src=x onerror=alert(1)><script>alert(2)</script>`;

let server: TestServer;
let stripe: ReturnType<typeof fakeStripe>;
let browser: Browser;
let page: Page;
/** alert() and prompt() dialogs: none may ever open (markup shown as text never runs). */
const dialogs: string[] = [];

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  server = await startTestServer();
  stripe = fakeStripe([stripeEvent("checkout.session.completed", checkoutSession({ amount_total: 2900 }), { created: Math.floor(Date.now() / 1000) - 60 })]);
  setProviderEndpoints(server.instance.ctx, { stripe: stripe.url });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 }, timezoneId: "Europe/Lisbon" });
  page.setDefaultTimeout(8_000);
  page.on("dialog", (dialog) => {
    // Confirmations (revoke, remove) are the UI's own; anything else is a script that should not run.
    if (dialog.type() === "confirm") return void dialog.accept();
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  stripe?.stop();
});

/** Full-page screenshots at 1280 and 390 px wide, then back to desktop. */
async function snap(name: string) {
  // Parts that load after the page (the overview's top tables) are in before the picture.
  await page.waitForFunction(() => !document.querySelector("[aria-busy=true]"));
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  // On a phone nothing may push the page sideways (wide tables scroll inside their own box).
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-phone.png`), fullPage: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-phone-top.png`) });
  await page.setViewportSize({ width: 1280, height: 900 });
}

let projectPath = "";

/** Clicks a submit button and waits for the page the form leads to. */
async function submit(selector: string) {
  await Promise.all([page.waitForEvent("load"), page.click(selector)]);
}

test("first start: setup creates the owner and project, shows the snippet, and the check turns green", async () => {
  // Whoever reaches the server first without the link from the log is told where the link is.
  await page.goto(`${server.url}/`);
  expect(new URL(page.url()).pathname).toBe("/setup");
  await expect(page.locator("main").textContent()).resolves.toContain("bantico setup-link");
  expect(await page.locator("#f-password").count()).toBe(0);
  await snap("setup-link-needed");
  await page.goto(server.setupUrl!);
  await submit("button[type=submit]");
  await expect(page.locator("#f-email-error").textContent()).resolves.toContain("Enter an email address");
  await snap("setup-errors");
  await page.fill("#f-email", "founder@example.com");
  await page.fill("#f-password", "a long password");
  await page.fill("#f-projectName", "Acme Analytics");
  await snap("setup");
  await submit("button[type=submit]");
  await page.waitForURL(/\/install$/);
  projectPath = new URL(page.url()).pathname.replace(/\/install$/, "");
  // The browser's timezone became the project's, so its days match the founder's.
  await expect(page.locator("main").textContent()).resolves.toContain("timezone (Europe/Lisbon)");
  const snippet = await page.locator(".snippet pre").first().textContent();
  expect(snippet).toMatch(new RegExp(`<script src="${server.url}/bantico.js" data-token="bt_pub_\\w+" data-persist></script>`));
  await expect(page.locator("#install-check").textContent()).resolves.toContain("Waiting for the first event");
  await snap("install-waiting");
  const projectId = projectPath.split("/")[2]!;
  await server.storage.run("INSERT INTO events (project_id, ts, name, path) VALUES (?, ?, 'page_view', '/')", [projectId, Date.now()]);
  // htmx polls every 2 s; the fragment without hx-trigger ends the polling.
  await page.locator("#install-check.ok").waitFor({ timeout: 10_000 });
  await snap("install-green");
}, 30_000);

test("signing out and in again, with a wrong password first", async () => {
  await page.click("details.account summary");
  await page.click("text=Sign out");
  await page.waitForURL(/\/login$/);
  await page.fill("#f-email", "founder@example.com");
  await page.fill("#f-password", "wrong password");
  await submit("button[type=submit]");
  await expect(page.locator("#login-error").textContent()).resolves.toBe("Wrong email or password.");
  await snap("login-error");
  await page.fill("#f-password", "a long password");
  await submit("button[type=submit]");
  await page.waitForURL((url) => /^\/dashboard\/prj_\w+$/.test(url.pathname));
  await snap("overview");
}, 30_000);

test("changing settings in the form, with an error next to a field first", async () => {
  await page.goto(`${server.url}${projectPath}/settings`);
  await page.fill("#f-currency", "XYZ");
  await submit("#project button[type=submit]");
  await expect(page.locator("#f-currency-error").textContent()).resolves.toContain("is not an ISO 4217 currency code");
  // The first field with an error has the focus, so keyboard and screen-reader users land on it.
  await page.waitForFunction(() => document.activeElement?.id === "f-currency");
  await snap("settings-errors");
  await page.fill("#f-currency", "eur");
  await page.selectOption("#f-timezone", "Europe/Berlin");
  await page.fill("#f-allowedHostnames", "example.com\nwww.example.com");
  await submit("#project button[type=submit]");
  await expect(page.locator(".notice.ok").textContent()).resolves.toBe("Settings saved.");
  expect(await page.inputValue("#f-currency")).toBe("EUR");
  expect(await page.inputValue("#f-timezone")).toBe("Europe/Berlin");
}, 30_000);

test("an API key is shown once, then only by its prefix", async () => {
  await page.goto(`${server.url}${projectPath}/settings/api-keys`);
  await page.fill("#f-key-name", "backend");
  await submit("#api-keys button[type=submit]");
  const key = (await page.locator("#new-api-key code").textContent())!;
  expect(key).toMatch(/^bt_live_\w{40}$/);
  const api = await fetch(`${server.url}/api/v1/project`, { headers: { authorization: `Bearer ${key}` } });
  expect(api.status).toBe(200);
  await page.locator("#api-keys").scrollIntoViewIfNeeded();
  await snap("settings-key-created");
  await page.goto(`${server.url}${projectPath}/settings/api-keys`);
  expect(await page.content()).not.toContain(key);
  await expect(page.locator("#api-keys").textContent()).resolves.toContain(`${key.slice(0, 14)}…`);
  await snap("settings");
}, 30_000);

test("revoking a key with htmx swaps its row in place; htmx requests carry the CSRF header", async () => {
  const row = page.locator("#api-keys tbody tr").first();
  await row.locator("button", { hasText: "Revoke" }).click();
  await row.locator(".badge", { hasText: "revoked" }).waitFor();
  expect(new URL(page.url()).pathname).toBe(`${projectPath}/settings/api-keys`);
  // A bare hx-post outside any form sends no _csrf field: only the header from <body hx-headers:inherited>.
  const projectId = projectPath.split("/")[2]!;
  const { id } = await createApiKey(server.instance.ctx.storage, projectId, "header probe");
  await page.evaluate((action) => {
    const button = document.createElement("button");
    button.id = "hx-probe";
    button.setAttribute("hx-post", action);
    button.setAttribute("hx-swap", "outerHTML");
    button.textContent = "probe";
    document.body.append(button);
    (window as unknown as { htmx: { process(el: Element): void } }).htmx.process(button);
  }, `${projectPath}/settings/api-keys/${id}/revoke`);
  await page.click("#hx-probe");
  await page.locator(`#key-${id} .badge`, { hasText: "revoked" }).waitFor();
  const stored = await server.storage.get<{ revoked_at: number | null }>("SELECT revoked_at FROM api_keys WHERE id = ?", [id]);
  expect(stored!.revoked_at).toBeNumber();
}, 30_000);

test("connecting Stripe against a fake Stripe API shows the connection and the finished backfill", async () => {
  await page.goto(`${server.url}${projectPath}/settings/integrations`);
  await page.fill("#f-stripe-credential", "rk_test_refused");
  await submit("#integration-stripe button[type=submit]");
  await expect(page.locator("#f-stripe-credential-error").textContent()).resolves.toContain("Stripe does not accept this key");
  await page.fill("#f-stripe-credential", STRIPE_KEY);
  await submit("#integration-stripe button[type=submit]");
  await expect(page.locator("#stripe-status .badge").textContent()).resolves.toBe("connected");
  // While the backfill runs, htmx polls the status block; it ends with the bar full.
  await page.locator("#stripe-status", { hasText: "Backfill of the last 30 days: done (1 payments)" }).waitFor({ timeout: 10_000 });
  await page.locator("#integrations").scrollIntoViewIfNeeded();
  await snap("settings-integrations");
}, 30_000);

test("the owner adds a teammate for this project only in the team form", async () => {
  await page.goto(`${server.url}${projectPath}/settings/team`);
  await page.fill("#team #f-email", "analyst@example.com");
  await page.fill("#team #f-password", "a long password");
  await page.selectOption("#team #f-role", "viewer");
  await page.selectOption("#team #f-scope", "project");
  await submit("#team button.primary");
  await expect(page.locator(".notice.ok").textContent()).resolves.toBe("Teammate added.");
  const row = page.locator("#team tbody tr", { hasText: "analyst@example.com" });
  await expect(row.textContent()).resolves.toContain("This project");
  await page.locator("#team").scrollIntoViewIfNeeded();
  await snap("settings-team");
}, 30_000);

test("markup typed into a project name or hostname is shown as text and never runs", async () => {
  await page.goto(`${server.url}${projectPath}/settings`);
  await page.fill("#f-name", EVIL);
  await page.fill("#f-allowedHostnames", "example.com");
  await submit("#project button[type=submit]");
  await expect(page.locator(".switcher summary").textContent()).resolves.toBe(EVIL);
  await page.fill("#f-allowedHostnames", EVIL);
  await submit("#project button[type=submit]");
  await expect(page.locator("#f-allowedHostnames-error").textContent()).resolves.toContain(`"<img`);
  await page.goto(`${server.url}${projectPath}`);
  expect(await page.title()).toContain(EVIL);
  expect(await page.locator("img[src=x]").count()).toBe(0);
  expect(dialogs).toEqual([]);
  await snap("escaped-name");
}, 30_000);

test("the keyboard reaches everything: skip link first, menus open with Enter and close with Escape", async () => {
  await page.goto(`${server.url}${projectPath}/settings`);
  await page.keyboard.press("Tab");
  expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
  await page.keyboard.press("Enter");
  expect(await page.evaluate(() => document.activeElement?.id)).toBe("main");
  await page.focus(".switcher summary");
  await page.keyboard.press("Enter");
  expect(await page.locator(".switcher").getAttribute("open")).not.toBeNull();
  await page.keyboard.press("Escape");
  expect(await page.locator(".switcher").getAttribute("open")).toBeNull();
  expect(await page.evaluate(() => document.activeElement?.matches(".switcher summary"))).toBe(true);
}, 30_000);

test("the account page and other shell pages render at both widths", async () => {
  await page.goto(`${server.url}/account`);
  await snap("account");
  await page.goto(`${server.url}/projects/new`);
  await snap("new-project");
  await page.goto(`${server.url}/dashboard/prj_missing/settings`);
  await snap("not-found");
  await page.emulateMedia({ colorScheme: "dark" });
  await page.goto(`${server.url}${projectPath}/settings`);
  await snap("settings-dark");
  await page.goto(`${server.url}${projectPath}`);
  await snap("overview-dark");
  await page.emulateMedia({ colorScheme: "light" });
  await page.goto(`${server.url}${projectPath}/links?range=custom&from=2026-01-01&to=2026-01-31&campaign=spring`);
  await page.click(".custom-range summary");
  await snap("range-custom");
  expect(dialogs).toEqual([]);
}, 30_000);
