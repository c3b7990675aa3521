// Links pages and the overview over a real server: create, edit, preview, QR, archive, roles and project isolation.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../../testing/harness.ts";
import { createProject } from "../../projects/service.ts";
import { createLink } from "../../links/service.ts";
import { userWithRole, type DashboardClient } from "../test-client.ts";

const BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36";

let server: TestServer;
let owner: DashboardClient;
let viewer: DashboardClient;
let base: string;

beforeAll(async () => {
  server = await startTestServer();
  owner = await userWithRole(server, "owner");
  viewer = await userWithRole(server, "viewer");
  base = `/dashboard/${server.project.id}`;
}, 60_000);
afterAll(() => server.close());

const linkCount = async () => (await server.storage.get<{ n: number }>("SELECT count(*) AS n FROM links"))!.n;
const storedLink = (id: string) => server.storage.get("SELECT destination_url, archived FROM links WHERE id = ?", [id]);

describe("creating a link", () => {
  test("the form takes every context field and leads to the new link's page with its short URL and QR code", async () => {
    const response = await owner.post(`${base}/links`, {
      destinationUrl: "https://example.com/pricing?plan=pro",
      slug: "spring-tw",
      title: "Spring launch tweet",
      campaignId: "spring_launch",
      source: "twitter",
      medium: "social",
      content: "hero",
      leadId: "lead_42",
    });
    expect(response.status).toBe(303);
    const location = response.headers.get("location")!;
    expect(location).toMatch(new RegExp(`^${base}/links/lnk_\\w+$`));
    const page = await (await owner.get(location)).text();
    expect(page).toContain(`${server.url}/l/spring-tw`);
    expect(page).toContain('data-copy="' + `${server.url}/l/spring-tw"`);
    expect(page).toContain("<svg class=\"qr\"");
    for (const value of ["spring_launch", "twitter", "social", "hero", "lead_42", "Spring launch tweet"]) expect(page).toContain(value);
    expect(await server.storage.get("SELECT campaign_id, lead_id FROM links WHERE slug = 'spring-tw'")).toEqual({ campaign_id: "spring_launch", lead_id: "lead_42" });
  });

  test("a bad destination and slug are refused with a message next to each field, and nothing is stored", async () => {
    const before = await linkCount();
    const response = await owner.post(`${base}/links`, { destinationUrl: "javascript:alert(1)", slug: "bad slug!", title: "x" });
    expect(response.status).toBe(422);
    const page = await response.text();
    expect(page).toContain('id="f-destinationUrl-error"');
    expect(page).toContain("must be an absolute http or https URL");
    expect(page).toContain('id="f-slug-error"');
    // What was typed comes back in the form.
    expect(page).toContain('value="bad slug!"');
    expect(await linkCount()).toBe(before);
  });

  test("a slug that is already taken is refused on the slug field", async () => {
    const before = await linkCount();
    const response = await owner.post(`${base}/links`, { destinationUrl: "https://example.com/", slug: "spring-tw" });
    expect(response.status).toBe(409);
    const page = await response.text();
    expect(page).toContain('id="f-slug-error"');
    expect(page).toContain("already taken");
    expect(await linkCount()).toBe(before);
  });

  test("the preview shows the final URL with the link's utm parameters, keeping the destination's own", async () => {
    const query = new URLSearchParams({ destinationUrl: "https://example.com/a?utm_source=own#top", campaignId: "spring launch", source: "newsletter", medium: "email", content: "" });
    const fragment = await (await owner.get(`${base}/links/preview?${query}`, { "hx-request": "true" })).text();
    expect(fragment).toContain("https://example.com/a?utm_source=own&amp;utm_medium=email&amp;utm_campaign=spring%20launch#top");
    expect(fragment).not.toContain("<html");
    const empty = await (await owner.get(`${base}/links/preview?destinationUrl=ftp%3A%2F%2Fx`, { "hx-request": "true" })).text();
    expect(empty).toContain("Type a destination URL");
  });
});

describe("editing and archiving", () => {
  test("an edit changes the fields and clearing a context field removes it", async () => {
    const link = await createLink(server.instance.ctx.storage, server.project.id, { destinationUrl: "https://example.com/e", campaignId: "c1", source: "s1", title: "Before" });
    const form = await (await owner.get(`${base}/links/${link.linkId}/edit`)).text();
    expect(form).toContain('value="Before"');
    const response = await owner.post(`${base}/links/${link.linkId}`, { destinationUrl: "https://example.com/after", slug: link.slug, title: "After", campaignId: "c2", source: "" });
    expect(response.status).toBe(303);
    expect(await server.storage.get("SELECT title, campaign_id, source, destination_url FROM links WHERE id = ?", [link.linkId])).toEqual({ title: "After", campaign_id: "c2", source: null, destination_url: "https://example.com/after" });
  });

  test("an archived link stops redirecting, leaves the active list and can be restored", async () => {
    const link = await createLink(server.instance.ctx.storage, server.project.id, { destinationUrl: "https://example.com/arch", slug: "to-archive", title: "Archive me" });
    expect((await fetch(`${server.url}/l/to-archive`, { redirect: "manual", headers: { "user-agent": BROWSER_UA } })).status).toBe(302);
    expect((await owner.post(`${base}/links/${link.linkId}/archive`, { archived: "1" })).status).toBe(303);
    expect((await fetch(`${server.url}/l/to-archive`, { redirect: "manual", headers: { "user-agent": BROWSER_UA } })).status).toBe(404);
    expect(await (await owner.get(`${base}/links`)).text()).not.toContain("Archive me");
    expect(await (await owner.get(`${base}/links?archived=1`)).text()).toContain("Archive me");
    await owner.post(`${base}/links/${link.linkId}/archive`, { archived: "0" });
    expect((await fetch(`${server.url}/l/to-archive`, { redirect: "manual", headers: { "user-agent": BROWSER_UA } })).status).toBe(302);
  });

  test("the QR code downloads as an SVG file", async () => {
    const link = await createLink(server.instance.ctx.storage, server.project.id, { destinationUrl: "https://example.com/qr", slug: "qr-me" });
    const response = await owner.get(`${base}/links/${link.linkId}/qr.svg`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("image/svg+xml; charset=utf-8");
    expect(response.headers.get("content-disposition")).toBe('attachment; filename="qr-qr-me.svg"');
    expect(await response.text()).toContain("<title>QR code for " + `${server.url}/l/qr-me</title>`);
  });
});

describe("permissions", () => {
  test("a viewer reads links but cannot create, edit or archive one", async () => {
    const link = await createLink(server.instance.ctx.storage, server.project.id, { destinationUrl: "https://example.com/v", title: "Viewer can see" });
    expect(await (await viewer.get(`${base}/links`)).text()).toContain("Viewer can see");
    const page = await (await viewer.get(`${base}/links/${link.linkId}`)).text();
    expect(page).toContain("Viewer can see");
    expect(page).not.toContain(">Archive<");
    expect(page).not.toContain(">Edit<");
    const before = await linkCount();
    expect((await viewer.post(`${base}/links`, { destinationUrl: "https://example.com/nope" })).status).toBe(403);
    expect((await viewer.get(`${base}/links/new`)).status).toBe(403);
    expect((await viewer.get(`${base}/links/${link.linkId}/edit`)).status).toBe(403);
    expect((await viewer.post(`${base}/links/${link.linkId}`, { destinationUrl: "https://example.com/changed" })).status).toBe(403);
    expect((await viewer.post(`${base}/links/${link.linkId}/archive`, { archived: "1" })).status).toBe(403);
    expect(await linkCount()).toBe(before);
    expect(await storedLink(link.linkId)).toEqual({ destination_url: "https://example.com/v", archived: 0 });
  });

  test("another project's link is never shown, edited or archived through this project", async () => {
    const other = await createProject(server.instance.ctx.storage, { name: "Other site" });
    const foreign = await createLink(server.instance.ctx.storage, other.id, { destinationUrl: "https://other.example/", title: "Foreign link" });
    expect(await (await owner.get(`${base}/links`)).text()).not.toContain("Foreign link");
    for (const path of [`/links/${foreign.linkId}`, `/links/${foreign.linkId}/edit`, `/links/${foreign.linkId}/qr.svg`]) {
      expect((await owner.get(`${base}${path}`)).status).toBe(404);
    }
    expect((await owner.post(`${base}/links/${foreign.linkId}/archive`, { archived: "1" })).status).toBe(404);
    expect((await owner.post(`${base}/links/${foreign.linkId}`, { destinationUrl: "https://evil.example/" })).status).toBe(404);
    expect(await storedLink(foreign.linkId)).toEqual({ destination_url: "https://other.example/", archived: 0 });
  });
});

describe("overview", () => {
  test("a followed link shows up as a click and a visitor on the overview and the link's page", async () => {
    const link = await createLink(server.instance.ctx.storage, server.project.id, { destinationUrl: "https://example.com/ov", slug: "overview-click", source: "podcast", campaignId: "ov_campaign" });
    const redirect = await fetch(`${server.url}/l/overview-click`, { redirect: "manual", headers: { "user-agent": BROWSER_UA } });
    expect(redirect.status).toBe(302);
    const overview = await (await owner.get(`${base}?range=today`)).text();
    expect(overview).toMatch(/<div class="label">Clicks<\/div><div class="value">[1-9]/);
    expect(overview).toContain("<svg class=\"chart chart-time chart-wide\"");
    // The top tables load as their own requests, with the page's range and filters.
    const cards = [...overview.matchAll(/hx-get="([^"]+)" hx-trigger="load"/g)].map((m) => m[1]!.replaceAll("&amp;", "&"));
    expect(cards).toEqual(["sources", "campaigns", "referrers", "countries"].map((card) => `${base}/overview/${card}?range=today`));
    const sources = await (await owner.get(cards[0]!)).text();
    expect(sources).toContain("<h2>Top sources</h2>");
    expect(sources).toContain("podcast");
    expect(await (await owner.get(cards[1]!)).text()).toContain("ov_campaign");
    const page = await (await owner.get(`${base}/links/${link.linkId}?range=today`)).text();
    expect(page).toMatch(/<div class="label">Clicks<\/div><div class="value">1<\/div>/);
  });

  test("another project's traffic never reaches this overview", async () => {
    const other = await createProject(server.instance.ctx.storage, { name: "Quiet site" });
    await createLink(server.instance.ctx.storage, server.project.id, { destinationUrl: "https://example.com/noisy", slug: "noisy" });
    await fetch(`${server.url}/l/noisy`, { redirect: "manual", headers: { "user-agent": BROWSER_UA } });
    const quiet = await (await owner.get(`/dashboard/${other.id}?range=today`)).text();
    expect(quiet).toMatch(/<div class="label">Clicks<\/div><div class="value">0<\/div>/);
    expect(quiet).toMatch(/<div class="label">Visitors<\/div><div class="value">0<\/div>/);
  });

  test("the range and filters stay in the URL and narrow the numbers", async () => {
    const filtered = await (await owner.get(`${base}?range=today&source=nobody`)).text();
    expect(filtered).toMatch(/<div class="label">Clicks<\/div><div class="value">0<\/div>/);
    expect(filtered).toContain("source: <strong>nobody</strong>");
    const card = await (await owner.get(`${base}/overview/sources?range=today&source=nobody`)).text();
    expect(card).toContain("<h2>Top sources</h2>");
    expect(card).not.toContain("podcast");
    expect((await owner.get(`${base}/overview/secrets?range=today`)).status).toBe(404);
  });
});
