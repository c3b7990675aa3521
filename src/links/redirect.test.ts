import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../testing/harness.ts";
import { redirectTarget } from "./redirect.ts";
import { rememberLink, type ActiveLink } from "./directory.ts";
import { getLink } from "./service.ts";
import { signIn } from "../dashboard/test-client.ts";
import { createUser } from "../auth/users.ts";

const BROWSER_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36";
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ env: { BANTICO_BASE_URL: "https://go.example.com" } });
});
afterAll(() => server.close());

async function createLink(body: Record<string, unknown>) {
  const response = await server.api("/api/v1/links", { method: "POST", json: body });
  expect(response.status).toBe(201);
  return (await response.json()) as { linkId: string; slug: string; shortUrl: string };
}

function follow(path: string, init: RequestInit = {}) {
  return fetch(`${server.url}${path}`, { redirect: "manual", ...init, headers: { "user-agent": BROWSER_UA, ...init.headers } });
}

const clicksOf = async (linkId: string) => (await server.storage.get<{ n: number }>("SELECT count(*) AS n FROM clicks WHERE link_id = ?", [linkId]))!.n;

describe("GET /l/{slug}", () => {
  test("the short URL comes from BANTICO_BASE_URL", async () => {
    const link = await createLink({ destinationUrl: "https://example.com", slug: "base" });
    expect(link.shortUrl).toBe("https://go.example.com/l/base");
  });

  test("a click answers 302 with bt_click, keeps the destination's query and fragment, forwards the short URL's query and adds the link's utm_*", async () => {
    const link = await createLink({
      destinationUrl: "https://example.com/pricing?plan=pro&utm_source=keep#faq",
      slug: "spring",
      campaignId: "spring_launch",
      source: "newsletter",
      medium: "email",
      content: "hero",
      leadId: "lead_42",
    });
    const response = await follow("/l/spring?ref=friend&plan=ignored", { headers: { referer: "https://www.news.example/post/1" } });
    expect(response.status).toBe(302);
    const location = response.headers.get("location")!;
    expect(location.startsWith("https://example.com/pricing?plan=pro&utm_source=keep&")).toBe(true);
    expect(location.endsWith("#faq")).toBe(true);
    const query = new URL(location).searchParams;
    expect(query.getAll("plan")).toEqual(["pro"]);
    expect(query.get("ref")).toBe("friend");
    expect(query.getAll("utm_source")).toEqual(["keep"]);
    expect(query.get("utm_medium")).toBe("email");
    expect(query.get("utm_campaign")).toBe("spring_launch");
    expect(query.get("utm_content")).toBe("hero");
    const clickId = query.get("bt_click")!;

    const click = (await server.storage.get<Record<string, unknown>>("SELECT link_id, referrer_host, browser, os, device, visitor_id FROM clicks WHERE id = ?", [clickId]))!;
    expect(click).toMatchObject({ link_id: link.linkId, referrer_host: "news.example", browser: "Chrome", os: "Windows", device: "desktop" });
    expect(click.visitor_id).toBeString();
    const eventSql = "SELECT name, link_id, campaign_id, lead_id, props FROM events WHERE name = 'link_clicked' AND link_id = ?";
    const event = (await server.storage.get<Record<string, unknown>>(eventSql, [link.linkId]))!;
    expect(event).toMatchObject({ name: "link_clicked", campaign_id: "spring_launch", lead_id: "lead_42" });
    expect(JSON.parse(event.props as string).clickId).toBe(clickId);
    await server.instance.ctx.writes.settle();
    const rollup = await server.storage.get("SELECT CAST(sum(clicks) AS BIGINT) AS clicks FROM context_stats_hourly WHERE link_id = ? AND lead_id = 'lead_42'", [link.linkId]);
    expect(rollup).toEqual({ clicks: 1 });
    const listed = (await (await server.api(`/api/v1/links/${link.linkId}`)).json()) as { clicks: number };
    expect(listed.clicks).toBe(1);
  });

  test("bots, link previews, HEAD and prefetch requests are redirected but not counted", async () => {
    const link = await createLink({ destinationUrl: "https://example.com/landing", slug: "previewed", source: "x" });
    const requests: RequestInit[] = [
      { headers: { "user-agent": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)" } },
      { headers: { "user-agent": "facebookexternalhit/1.1" } },
      { headers: { "user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/141.0.0.0 Safari/537.36" } },
      { headers: { "user-agent": "" } },
      { method: "HEAD" },
      { headers: { "sec-purpose": "prefetch" } },
      { headers: { purpose: "prefetch" } },
    ];
    for (const init of requests) {
      const response = await follow("/l/previewed", init);
      expect(response.status).toBe(302);
      const location = new URL(response.headers.get("location")!);
      expect(location.searchParams.get("bt_click")).toBeNull();
      expect(location.searchParams.get("utm_source")).toBe("x");
    }
    expect(await clicksOf(link.linkId)).toBe(0);
  });

  test("an unknown or archived slug answers a 404 page, not a redirect", async () => {
    const link = await createLink({ destinationUrl: "https://example.com", slug: "gone" });
    await server.api(`/api/v1/links/${link.linkId}`, { method: "PATCH", json: { archived: true } });
    for (const path of ["/l/gone", "/l/never-existed"]) {
      const response = await follow(path);
      expect(response.status).toBe(404);
      expect(response.headers.get("location")).toBeNull();
      expect(response.headers.get("content-type")).toContain("text/html");
      expect(await response.text()).toContain("This link does not exist");
    }
    expect(await clicksOf(link.linkId)).toBe(0);
  });

  test("a destination edited through the API is followed at once", async () => {
    const link = await createLink({ destinationUrl: "https://example.com/old", slug: "moving" });
    await server.api(`/api/v1/links/${link.linkId}`, { method: "PATCH", json: { destinationUrl: "https://example.com/new" } });
    const response = await follow("/l/moving");
    expect(response.headers.get("location")).toStartWith("https://example.com/new?bt_click=");
  });
});

describe("destinations with control characters or whitespace", () => {
  const unsafe = [
    "https://a.example/x\r\nSet-Cookie: pwn=1",
    "https://a.example/x\ty",
    "https://a.example/x y",
    "https://a.example/x\u2028y",
    "https://a.example/x\u0000y",
    "https://a.example/x\u007fy",
    "https://a.example/?q=\u00a0x",
  ];
  const linkCount = async () => (await server.storage.get<{ n: number }>("SELECT count(*) AS n FROM links"))!.n;

  test("are refused with 400 by the API on create and update, and nothing is stored", async () => {
    const kept = await createLink({ destinationUrl: "https://a.example/kept", slug: "kept-dest" });
    for (const destinationUrl of unsafe) {
      const before = await linkCount();
      const created = await server.api("/api/v1/links", { method: "POST", json: { destinationUrl, slug: "unsafe-dest" } });
      expect({ destinationUrl, status: created.status }).toEqual({ destinationUrl, status: 400 });
      expect(((await created.json()) as { error: { message: string } }).error.message).toContain("control characters");
      expect(await linkCount()).toBe(before);
      const updated = await server.api(`/api/v1/links/${kept.linkId}`, { method: "PATCH", json: { destinationUrl, title: "changed" } });
      expect({ destinationUrl, status: updated.status }).toEqual({ destinationUrl, status: 400 });
      expect(await getLink(server.instance.ctx.storage, server.project.id, kept.linkId)).toMatchObject({ destinationUrl: "https://a.example/kept", title: "" });
    }
    // Whitespace around a pasted URL is not part of it.
    expect((await server.api("/api/v1/links", { method: "POST", json: { destinationUrl: " https://a.example/padded\n", slug: "padded" } })).status).toBe(201);
  });

  test("are refused next to the field by the dashboard's create and edit forms, and nothing is stored", async () => {
    await createUser(server.instance.ctx.storage, { email: "links-owner@example.com", password: "correct horse battery", role: "owner" });
    const owner = await signIn(server, "links-owner@example.com", "correct horse battery");
    const kept = await createLink({ destinationUrl: "https://a.example/kept-form", slug: "kept-form" });
    const base = `/dashboard/${server.project.id}/links`;
    for (const destinationUrl of unsafe) {
      const before = await linkCount();
      const created = await owner.post(base, { destinationUrl, slug: "unsafe-form" });
      expect({ destinationUrl, status: created.status }).toEqual({ destinationUrl, status: 422 });
      expect(await created.text()).toContain("control characters");
      expect(await linkCount()).toBe(before);
      const edited = await owner.post(`${base}/${kept.linkId}`, { destinationUrl, slug: kept.slug });
      expect({ destinationUrl, status: edited.status }).toEqual({ destinationUrl, status: 422 });
      expect((await getLink(server.instance.ctx.storage, server.project.id, kept.linkId))!.destinationUrl).toBe("https://a.example/kept-form");
    }
  });

  /** A link whose destination was stored before these were refused, or edited in the database by hand. */
  async function storedAsIs(slug: string, destinationUrl: string) {
    const link = await createLink({ destinationUrl: "https://a.example/placeholder", slug });
    const { storage } = server.instance.ctx;
    await storage.run("UPDATE links SET destination_url = ? WHERE id = ?", [destinationUrl, link.linkId]);
    rememberLink(storage, link.linkId, await getLink(storage, server.project.id, link.linkId));
    return link;
  }

  test("a link stored with a line break before the fix redirects without it, and its click is counted once", async () => {
    const link = await storedAsIs("legacy-crlf", "https://a.example/x\r\nSet-Cookie: pwn=1");
    const response = await follow("/l/legacy-crlf");
    expect(response.status).toBe(302);
    expect(response.headers.get("set-cookie")).toBeNull();
    expect(response.headers.get("location")).toStartWith("https://a.example/xSet-Cookie:%20pwn=1?bt_click=");
    expect(await clicksOf(link.linkId)).toBe(1);
  });

  test("a destination with characters outside ASCII redirects percent-encoded, as a browser would send it", async () => {
    const link = await createLink({ destinationUrl: "https://例え.example/日本?q=ü#größe", slug: "unicode" });
    const response = await follow("/l/unicode");
    expect(response.status).toBe(302);
    const location = response.headers.get("location")!;
    expect(location).toMatch(/^https:\/\/xn--r8jz45g\.example\/%E6%97%A5%E6%9C%AC\?q=%C3%BC&bt_click=[\w-]+#gr%C3%B6%C3%9Fe$/);
    expect(await clicksOf(link.linkId)).toBe(1);
  });

  test("a destination that cannot be redirected to answers the link's 404 page and counts no click", async () => {
    const link = await storedAsIs("legacy-broken", "not a url");
    const response = await follow("/l/legacy-broken");
    expect(response.status).toBe(404);
    expect(await clicksOf(link.linkId)).toBe(0);
  });
});

describe("redirectTarget", () => {
  const link = (destinationUrl: string, context: Partial<ActiveLink["context"]> = {}): ActiveLink => ({
    linkId: "lnk_1",
    projectId: "prj_1",
    slug: "s",
    destinationUrl,
    context: { linkId: "lnk_1", campaignId: null, source: null, medium: null, content: null, leadId: null, ...context },
  });

  test("keeps the destination's own encoding, and adds nothing when there is nothing to add", () => {
    expect(redirectTarget(link("https://example.com/a?q=a+b%20c"), new URLSearchParams(), null)).toBe("https://example.com/a?q=a+b%20c");
    expect(redirectTarget(link("https://example.com/a?q=a+b%20c#x"), new URLSearchParams(), "CLICK")).toBe("https://example.com/a?q=a+b%20c&bt_click=CLICK#x");
  });

  test("a forwarded utm_* wins over the link's own, and values are encoded", () => {
    const target = redirectTarget(link("https://example.com/", { source: "link source", medium: "m" }), new URLSearchParams("utm_source=forwarded"), "C");
    expect(target).toBe("https://example.com/?utm_source=forwarded&utm_medium=m&bt_click=C");
    expect(redirectTarget(link("https://example.com/?", { source: "a&b" }), new URLSearchParams(), null)).toBe("https://example.com/?utm_source=a%26b");
  });
});
