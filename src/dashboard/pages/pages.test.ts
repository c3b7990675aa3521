// Reports, funnel, payments, profiles, live events and CSV exports over a real server fed through the
// real endpoints (short links, /api/v1/events, /api/v1/identify, /api/v1/payments).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../../testing/harness.ts";
import { createProject } from "../../projects/service.ts";
import { createLink, type TrackedLink } from "../../links/service.ts";
import { userWithRole, type DashboardClient } from "../test-client.ts";
import { checkoutSession, sendStripe, stripeEvent } from "../../payments/testing.ts";

const BROWSER_UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36";
const XSS = "<img src=x onerror=alert(1)>";

let server: TestServer;
let owner: DashboardClient;
let viewer: DashboardClient;
let base: string;
let link: TrackedLink;
let linkedPaymentId: string;

async function api(path: string, json: unknown) {
  const response = await server.api(`/api/v1${path}`, { method: "POST", json });
  if (response.status >= 300) throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
  return response.json() as Promise<Record<string, unknown>>;
}

beforeAll(async () => {
  server = await startTestServer();
  owner = await userWithRole(server, "owner");
  viewer = await userWithRole(server, "viewer");
  base = `/dashboard/${server.project.id}`;
  link = await createLink(server.instance.ctx.storage, server.project.id, { destinationUrl: "https://example.com/", slug: "spring", title: "Spring tweet", campaignId: "spring_launch", source: "twitter", medium: "social" });
  await fetch(`${server.url}/l/spring`, { redirect: "manual", headers: { "user-agent": BROWSER_UA } });
  await api("/identify", { id: "user_1", email: "ada@example.com", name: "Ada", visitorId: "visitor_ada_0001", traits: { plan: XSS } });
  for (const name of ["signup_started", "signup_completed"]) await api("/events", { name, visitorId: "visitor_ada_0001", props: { note: XSS } });
  const sale = await api("/payments", { transactionId: "tx_usd", amount: 4900, currency: "USD", email: "ada@example.com", metadata: { linkId: link.linkId, coupon: XSS } });
  linkedPaymentId = String(sale.id ?? (sale as { payment?: { id: string } }).payment?.id);
  await api("/payments", { transactionId: "tx_jpy", amount: 1500, currency: "JPY", metadata: { campaignId: "spring_launch", source: "twitter" } });
  await api("/payments", { transactionId: "tx_none", amount: 990, currency: "USD" });
}, 60_000);
afterAll(() => server.close());

describe("attribution reports", () => {
  test("a campaign row shows revenue per currency, never summed, with its conversion rate", async () => {
    const page = await (await owner.get(`${base}/campaigns?range=today`)).text();
    expect(page).toContain("spring_launch");
    expect(page).toContain("$49.00");
    expect(page).toContain("¥1,500");
    expect(page).not.toContain("$64"); // 49 USD + 1500 JPY read as cents would be nonsense
    expect(page).toMatch(/aria-sort="descending"><a [^>]*>Net revenue ↓/);
  });

  test("sorting is a link that keeps the range and survives reload", async () => {
    const page = await (await owner.get(`${base}/sources?range=today&sort=key&dir=asc`)).text();
    expect(page).toContain('aria-sort="ascending"');
    expect(page).toContain(`href="${base}/sources?range=today&amp;sort=key&amp;dir=desc"`);
  });

  test("a row drills down to its links and payments", async () => {
    const page = await (await owner.get(`${base}/campaigns/spring_launch?range=today`)).text();
    expect(page).toContain("Spring tweet");
    expect(page).toContain(`${server.url}/l/spring`);
    expect(page).toContain("$49.00");
    expect(page).toContain("¥1,500");
    const none = await owner.get(`${base}/campaigns/(none)?range=today`);
    expect(none.status).toBe(200);
    expect(await none.text()).toContain("$9.90");
  });

  test("the first-touch model is one click away", async () => {
    const page = await (await owner.get(`${base}/campaigns?range=today&model=first`)).text();
    expect(page).toMatch(/aria-current="true">First touch/);
  });
});

describe("payments", () => {
  test("the ledger shows each payment's attribution and filters by method and provider", async () => {
    const all = await (await owner.get(`${base}/payments?range=today`)).text();
    expect(all).toContain("Checkout metadata: link");
    expect(all).toContain("Unattributed");
    expect(all).toContain("¥1,500");
    const unattributed = await (await owner.get(`${base}/payments?range=today&method=unattributed`)).text();
    expect(unattributed).toContain("$9.90");
    expect(unattributed).not.toContain("$49.00");
    const stripe = await (await owner.get(`${base}/payments?range=today&provider=stripe`)).text();
    expect(stripe).toContain("No payment matches these filters");
  });

  test("a payment's page explains its attribution step by step and shows metadata as text", async () => {
    const page = await (await owner.get(`${base}/payments/${linkedPaymentId}`)).text();
    expect(page).toMatch(/<ol class="trail"><li>[^<]*link/);
    expect(page).toContain(`href="${base}/links/${link.linkId}"`);
    expect(page).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(page).not.toContain(XSS);
    // The link by its title, the customer linked to their profile's journey.
    expect(page).toContain(`<a href="${base}/links/${link.linkId}">Spring tweet</a> <small class="muted">${link.linkId}</small>`);
    expect(page).toContain(`<a href="${base}/profiles/user_1">ada@example.com</a>`);
  });

  test("a visitor's journey is one click from the payments it paid", async () => {
    const sale = await api("/payments", { transactionId: "tx_visitor", amount: 1200, currency: "USD", metadata: { linkId: link.linkId, visitorId: "visitor_ada_0001" } });
    const page = await (await owner.get(`${base}/payments/${String(sale.id)}`)).text();
    expect(page).toContain(`href="${base}/visitors/visitor_ada_0001"`);
    const journey = await owner.get(`${base}/visitors/visitor_ada_0001`);
    expect(journey.status).toBe(200);
    const text = await journey.text();
    expect(text).toContain("signup_completed");
    expect(text).toContain(`href="${base}/profiles/user_1"`);
    expect((await owner.get(`${base}/visitors/nobody_at_all_0001`)).status).toBe(404);
  });
});

describe("raw provider events", () => {
  test("a Stripe webhook's payload is readable on its payment's page and in the provider events list, as text", async () => {
    const secret = "whsec_dashboard_test_secret";
    const connect = await server.api("/api/v1/integrations/stripe", { method: "PUT", json: { webhookSecret: secret } });
    expect(connect.status).toBe(200);
    const event = stripeEvent("checkout.session.completed", checkoutSession({ metadata: { linkId: link.linkId, note: XSS } }));
    expect((await sendStripe(server.url, server.project.id, event, secret)).status).toBe(200);
    const list = await (await owner.get(`${base}/payments/events`)).text();
    expect(list).toContain("checkout.session.completed");
    expect(list).toContain(event.id);
    expect(list).not.toContain(XSS);
    const paymentId = /href="[^"]*\/payments\/(pay_\w+)[^"]*">payment</.exec(list)![1]!;
    const page = await (await owner.get(`${base}/payments/${paymentId}`)).text();
    expect(page).toContain("&quot;checkout.session.completed&quot;");
    expect(page).toContain("stripe webhook");
    // Another project never sees this project's provider events.
    const other = await createProject(server.instance.ctx.storage, { name: "No webhooks" });
    expect(await (await owner.get(`/dashboard/${other.id}/payments/events`)).text()).not.toContain(event.id);
  });
});

describe("funnel", () => {
  test("counts people per step, skips steps the site never sends, and never passes 100 %", async () => {
    const page = await (await owner.get(`${base}/funnel?range=today`)).text();
    for (const event of ["link_clicked", "page_view", "pricing_view", "signup_started", "signup_completed", "payment_completed"]) expect(page).toContain(event);
    const row = (label: string, event: string, people: string) => new RegExp(`${label} <code class="hide-phone">${event}</code></td><td class="num">${people}</td>`);
    // One person clicked (the cookieless visitor of the click); no page_view or pricing_view was ever sent.
    expect(page).toMatch(row("Clicked a link", "link_clicked", "1"));
    expect(page).toMatch(row("Visited the site", "page_view", '<span class="muted">not tracked</span>'));
    expect(page).toMatch(row("Viewed pricing", "pricing_view", '<span class="muted">not tracked</span>'));
    // Ada signed up through the API without ever clicking: she is not someone who clicked first.
    expect(page).toMatch(row("Started signup", "signup_started", "0"));
    for (const [, pct] of page.matchAll(/(\d+(?:\.\d+)?) %/g)) expect(Number(pct)).toBeLessThanOrEqual(100);
    // The link and campaign are picked from lists, by title.
    expect(page).toContain(`<option value="${link.linkId}" >Spring tweet</option>`);
    expect(page).toContain(`<option value="spring_launch" >spring_launch</option>`);
    const filtered = await (await owner.get(`${base}/funnel?range=today&campaign=spring_launch`)).text();
    expect(filtered).toMatch(row("Clicked a link", "link_clicked", "1"));
    expect(filtered).toContain(`<option value="spring_launch" selected>spring_launch</option>`);
  });
});

describe("profiles and live events", () => {
  test("a profile shows its journey, its payments and its traits as text", async () => {
    const list = await (await owner.get(`${base}/profiles`)).text();
    expect(list).toContain("Ada");
    const page = await (await owner.get(`${base}/profiles/user_1`)).text();
    expect(page).toContain("signup_completed");
    expect(page).toContain("$49.00");
    expect(page).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(page).not.toContain(XSS);
  });

  test("the live feed polls itself and shows new events with their props as text", async () => {
    const page = await (await owner.get(`${base}/live`)).text();
    expect(page).toContain('hx-trigger="every 3s"');
    await api("/events", { name: "upgrade_clicked", visitorId: "visitor_ada_0001", props: { label: XSS } });
    const fragment = await (await owner.get(`${base}/live/feed`, { "hx-request": "true" })).text();
    expect(fragment.startsWith('<div id="live-feed"')).toBe(true);
    expect(fragment).toContain("upgrade_clicked");
    expect(fragment).not.toContain(XSS);
  });
});

describe("CSV exports", () => {
  test("links, payments and events download as CSV with formulas neutralised", async () => {
    await createLink(server.instance.ctx.storage, server.project.id, { destinationUrl: "https://example.com/f", title: "=HYPERLINK(\"http://evil\")" });
    const links = await owner.get(`${base}/export/links.csv`);
    expect(links.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    const linksCsv = await links.text();
    expect(linksCsv).toContain(`${link.linkId},spring,${server.url}/l/spring,https://example.com/,Spring tweet,spring_launch,twitter,social`);
    expect(linksCsv).toContain(`"'=HYPERLINK(""http://evil"")"`);
    const payments = await (await owner.get(`${base}/export/payments.csv?range=today`)).text();
    expect(payments).toContain(",sale,49,0,49,USD,ada@example.com,metadata_link,");
    expect(payments).toContain(",sale,1500,0,1500,JPY,");
    const events = await (await owner.get(`${base}/export/events.csv?range=today`)).text();
    expect(events.split("\r\n")[0]).toBe("eventId,timestamp,name,visitorId,sessionId,profileId,path,props,linkId,campaignId,source,medium,content,leadId");
    expect(events).toContain("signup_started");
    expect(events).toContain('"{""note"":""<img src=x onerror=alert(1)>""}"');
  });
});

describe("permissions and isolation", () => {
  const pages = () => [
    "",
    "/links",
    `/links/${link.linkId}`,
    "/campaigns",
    "/campaigns/spring_launch",
    "/sources",
    "/mediums",
    "/contents",
    "/leads",
    "/funnel",
    "/payments",
    "/payments/events",
    `/payments/${linkedPaymentId}`,
    "/profiles",
    "/profiles/user_1",
    "/live",
    "/export/links.csv",
    "/export/payments.csv",
    "/export/events.csv",
  ];

  test("a viewer reads every data page and export", async () => {
    for (const path of pages()) {
      const response = await viewer.get(`${base}${path}?range=today`);
      expect({ path, status: response.status }).toEqual({ path, status: 200 });
      // CSV is data for spreadsheets, not HTML: only pages must escape.
      if (!path.endsWith(".csv")) expect(await response.text()).not.toContain(XSS);
    }
  });

  test("another project's payments, profiles and numbers are never visible", async () => {
    const other = await createProject(server.instance.ctx.storage, { name: "Other" });
    const otherBase = `/dashboard/${other.id}`;
    expect((await owner.get(`${otherBase}/payments/${linkedPaymentId}`)).status).toBe(404);
    expect((await owner.get(`${otherBase}/profiles/user_1`)).status).toBe(404);
    const ledger = await (await owner.get(`${otherBase}/payments?range=today`)).text();
    expect(ledger).not.toContain("$49.00");
    const campaigns = await (await owner.get(`${otherBase}/campaigns?range=today`)).text();
    expect(campaigns).not.toContain("spring_launch");
    const csv = await (await owner.get(`${otherBase}/export/payments.csv?range=today`)).text();
    expect(csv.trim().split("\r\n")).toHaveLength(1);
    const events = await (await owner.get(`${otherBase}/export/events.csv?range=today`)).text();
    expect(events).not.toContain("signup_started");
    const live = await (await owner.get(`${otherBase}/live`)).text();
    expect(live).not.toContain("upgrade_clicked");
  });

  test("signed-out visitors are sent to sign in, never shown data", async () => {
    const response = await fetch(`${server.url}${base}/export/payments.csv`, { redirect: "manual" });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toStartWith("/login?next=");
  });
});
