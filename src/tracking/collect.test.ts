import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../testing/harness.ts";
import { updateProjectSettings } from "../projects/service.ts";
import { hostnameAllowed } from "./collect.ts";
import { pricingPathMatcher } from "./pricing-pattern.ts";

const UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15";
const MINUTE = 60_000;
let clock = Date.parse("2026-11-20T10:00:00Z");
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ now: () => clock });
});
afterAll(() => server.close());
beforeEach(() => {
  clock += 24 * 60 * MINUTE; // each test starts on a fresh day, so visitors and sessions do not carry over
});

function collect(body: unknown, init: { headers?: Record<string, string>; raw?: string } = {}) {
  return fetch(`${server.url}/api/collect`, {
    method: "POST",
    body: init.raw ?? JSON.stringify(body),
    headers: { "content-type": "text/plain;charset=UTF-8", "user-agent": UA, ...init.headers },
  });
}

function hit(fields: Record<string, unknown> = {}) {
  return { t: server.project.token, n: "page_view", u: "https://site.example/", r: "", ...fields };
}

async function stored(body: unknown, headers?: Record<string, string>) {
  const response = await collect(body, { headers });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<"visitorId" | "sessionId" | "linkId" | "campaignId" | "source" | "medium" | "content" | "leadId", string>;
}

const eventCount = async () => (await server.storage.get<{ n: number }>("SELECT count(*) AS n FROM events"))!.n;

describe("bad input stores nothing", () => {
  const cases: [string, () => Promise<Response>, number, string][] = [
    ["a body that is not JSON", () => collect(null, { raw: "{not json" }), 400, "invalid_json"],
    ["a body over 32 KB", () => collect(hit({ p: { big: "x".repeat(33 * 1024) } })), 413, "payload_too_large"],
    ["an unknown token", () => collect(hit({ t: "bt_pub_nope" })), 403, "unknown_token"],
    ["a page URL that is not http(s)", () => collect(hit({ u: "javascript:alert(1)" })), 400, "invalid_event"],
    ["props nested too deep", () => collect(hit({ n: "signup_started", p: { a: { b: { c: { d: 1 } } } } })), 400, "invalid_event"],
    ["props too large", () => collect(hit({ n: "x", p: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, "v".repeat(200)])) })), 400, "invalid_event"],
    ["an event name only the server records", () => collect(hit({ n: "link_clicked" })), 400, "invalid_event"],
    ["a malformed event name", () => collect(hit({ n: "<script>" })), 400, "invalid_event"],
    ["a JSON array", () => collect([1, 2]), 400, "invalid_event"],
  ];
  for (const [what, send, status, code] of cases) {
    test(`${what} answers ${status}`, async () => {
      const before = await eventCount();
      const response = await send();
      expect(response.status).toBe(status);
      expect(response.headers.get("access-control-allow-origin")).toBe("*");
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe(code);
      expect(await eventCount()).toBe(before);
    });
  }

  test("a host outside the allowed hostnames is refused, one inside is stored", async () => {
    await updateProjectSettings(server.storage, server.project.id, { allowedHostnames: ["site.example", "*.app.example"] });
    try {
      const refused = await collect(hit({ u: "https://evil.example/" }));
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("hostname_not_allowed");
      await stored(hit({ u: "https://eu.app.example/dash" }));
      await stored(hit({ u: "https://site.example/" }));
    } finally {
      await updateProjectSettings(server.storage, server.project.id, { allowedHostnames: [] });
    }
  });
});

describe("POST /api/collect", () => {
  test("CORS is open and the preflight answers", async () => {
    const preflight = await fetch(`${server.url}/api/collect`, {
      method: "OPTIONS",
      headers: { origin: "https://site.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
    expect(preflight.headers.get("access-control-allow-headers")).toContain("content-type");
  });

  test("a 200 means the event is in the database, with the user-agent class and no IP", async () => {
    const answer = await stored(hit({ u: "https://site.example/docs?x=1" }), { "content-type": "application/json" });
    const row = await server.storage.get<Record<string, unknown>>("SELECT * FROM events WHERE session_id = ?", [answer.sessionId]);
    expect(row).toMatchObject({ name: "page_view", path: "/docs", visitor_id: answer.visitorId });
    const session = await server.storage.get("SELECT browser, os, device, entry_path FROM sessions WHERE id = ?", [answer.sessionId]);
    expect(session).toEqual({ browser: "Safari", os: "Mac OS", device: "desktop", entry_path: "/docs" });
    const dump = JSON.stringify(await server.storage.all("SELECT * FROM sessions")) + JSON.stringify(await server.storage.all("SELECT * FROM events"));
    expect(dump).not.toContain("127.0.0.1");
  });

  test("bots, headless browsers and prefetches get a 202 and are not stored", async () => {
    const before = await eventCount();
    for (const headers of <Record<string, string>[]>[
      { "user-agent": "Googlebot/2.1 (+http://www.google.com/bot.html)" },
      { "user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/141.0.0.0 Safari/537.36" },
      { "user-agent": "" },
      { "sec-purpose": "prefetch;prerender" },
    ]) {
      const response = await collect(hit(), { headers });
      expect(response.status).toBe(202);
    }
    expect(await eventCount()).toBe(before);
  });

  test("without a persisted id, the same browser is one visitor for the day and a session ends after 30 idle minutes", async () => {
    const first = await stored(hit());
    clock += 29 * MINUTE;
    const second = await stored(hit({ u: "https://site.example/about" }));
    expect(second.visitorId).toBe(first.visitorId);
    expect(second.sessionId).toBe(first.sessionId);
    clock += 31 * MINUTE;
    const third = await stored(hit());
    expect(third.visitorId).toBe(first.visitorId);
    expect(third.sessionId).not.toBe(first.sessionId);
    const otherBrowser = await stored(hit(), { "user-agent": UA.replace("18.1", "17.0") });
    expect(otherBrowser.visitorId).not.toBe(first.visitorId);
  });

  test("a new visitor's hits arriving together share one session", async () => {
    for (let visitor = 0; visitor < 10; visitor++) {
      const v = `together${visitor}`;
      const answers = await Promise.all([stored(hit({ v })), stored(hit({ v, n: "queued_before_load" })), stored(hit({ v, n: "signup_started" }))]);
      expect(new Set(answers.map((a) => a.sessionId)).size).toBe(1);
    }
  });

  test("idle time counts from the last hit even when hits come seconds apart", async () => {
    const first = await stored(hit());
    clock += 40_000;
    await stored(hit({ u: "https://site.example/docs" }));
    // 29.5 minutes after the last hit, 30.2 after the first: still the same session.
    clock += 29.5 * MINUTE;
    const back = await stored(hit());
    expect(back.sessionId).toBe(first.sessionId);
    clock += 10_000;
    await stored(hit({ u: "https://site.example/docs" }));
    clock += 30.5 * MINUTE;
    const later = await stored(hit());
    expect(later.sessionId).not.toBe(first.sessionId);
  });

  test("a session that straddles midnight continues under yesterday's salt", async () => {
    clock = Date.parse(new Date(clock).toISOString().slice(0, 10) + "T23:55:00Z");
    const before = await stored(hit());
    clock += 10 * MINUTE;
    const after = await stored(hit());
    expect(after.sessionId).toBe(before.sessionId);
    expect(after.visitorId).toBe(before.visitorId);
  });

  test("salts older than 48 hours are deleted", async () => {
    await stored(hit());
    const days = (await server.storage.all<{ day: string }>("SELECT day FROM visitor_salts ORDER BY day")).map((r) => r.day);
    const today = new Date(clock).toISOString().slice(0, 10);
    const yesterday = new Date(clock - 86_400_000).toISOString().slice(0, 10);
    expect(days.every((day) => day === today || day === yesterday)).toBe(true);
  });

  test("in persist mode the tracker's visitor id is used as is", async () => {
    const answer = await stored(hit({ v: "k2j4h5g6f7d8s9a0" }));
    expect(answer.visitorId).toBe("k2j4h5g6f7d8s9a0");
    const again = await stored(hit({ v: "k2j4h5g6f7d8s9a0", s: answer.sessionId }), { "user-agent": UA.replace("18.1", "16.0") });
    expect(again.sessionId).toBe(answer.sessionId);
  });

  test("the landing URL's bt_click gives the session the link's context, kept for the rest of the session", async () => {
    const link = (await (
      await server.api("/api/v1/links", {
        method: "POST",
        json: { destinationUrl: "https://site.example/", campaignId: "launch", source: "x", medium: "social", content: "thread", leadId: "lead_7" },
      })
    ).json()) as { linkId: string; slug: string };
    const redirect = await fetch(`${server.url}/l/${link.slug}`, { redirect: "manual", headers: { "user-agent": UA } });
    const landing = redirect.headers.get("location")!;
    const first = await stored(hit({ u: landing, r: "https://x.com/" }));
    expect(first).toMatchObject({ linkId: link.linkId, campaignId: "launch", source: "x", medium: "social", content: "thread", leadId: "lead_7" });
    const later = await stored(hit({ u: "https://site.example/pricing", n: "page_view" }));
    expect(later.sessionId).toBe(first.sessionId);
    expect(later.linkId).toBe(link.linkId);
    const click = await server.storage.get("SELECT visitor_id FROM clicks WHERE id = ?", [new URL(landing).searchParams.get("bt_click")!]);
    expect(click).toEqual({ visitor_id: first.visitorId });
    const pricing = await server.storage.all("SELECT link_id, lead_id FROM events WHERE name = 'pricing_view' AND session_id = ?", [first.sessionId]);
    expect(pricing).toEqual([{ link_id: link.linkId, lead_id: "lead_7" }]);
  });

  test("utm_* parameters become the context when there is no tracked click; a different campaign starts a new session", async () => {
    const first = await stored(hit({ u: "https://site.example/?utm_source=hn&utm_medium=forum&utm_campaign=show" }));
    expect(first).toMatchObject({ source: "hn", medium: "forum", campaignId: "show", linkId: "" });
    const same = await stored(hit({ u: "https://site.example/docs" }));
    expect(same.sessionId).toBe(first.sessionId);
    const other = await stored(hit({ u: "https://site.example/?utm_source=reddit" }));
    expect(other.sessionId).not.toBe(first.sessionId);
    expect(other.source).toBe("reddit");
  });

  test("a session without context takes the first one it sees, and a referrer from another site is its source", async () => {
    const direct = await stored(hit());
    expect(direct.source).toBe("");
    const tagged = await stored(hit({ u: "https://site.example/?utm_source=newsletter" }));
    expect(tagged.sessionId).toBe(direct.sessionId);
    expect(tagged.source).toBe("newsletter");
    clock += 40 * MINUTE;
    const referred = await stored(hit({ r: "https://www.google.com/" }));
    expect(referred.source).toBe("google.com");
  });

  test("sessions, page views and pricing views are rolled up by hour and context", async () => {
    const hour = Math.floor(clock / 3_600_000) * 3_600_000;
    await stored(hit({ u: "https://site.example/?utm_source=rollup" }));
    await stored(hit({ u: "https://site.example/pricing/teams" }));
    await stored(hit({ n: "signup_started" }));
    await server.instance.ctx.writes.settle();
    const rollup = await server.storage.get("SELECT sessions, pageviews, pricing_views FROM context_stats_hourly WHERE project_id = ? AND hour = ? AND source = 'rollup'", [server.project.id, hour]);
    expect(rollup).toEqual({ sessions: 1, pageviews: 2, pricing_views: 1 });
  });

  test("identify links the visitor to a profile by id, with its email trimmed and lower-cased; a visitor may later be someone else", async () => {
    const first = await stored(hit({ n: "identify", i: { id: "user_1", email: "  Ada@Example.COM ", name: "Ada", plan: "pro" } }));
    const profile = (await server.storage.get<{ email: string; name: string; traits: string }>("SELECT email, name, traits FROM profiles WHERE project_id = ? AND id = 'user_1'", [server.project.id]))!;
    expect(profile).toMatchObject({ email: "ada@example.com", name: "Ada" });
    expect(JSON.parse(profile.traits)).toEqual({ plan: "pro" });
    const custom = await stored(hit({ n: "signup_completed", p: { plan: "pro" } }));
    const row = await server.storage.get("SELECT profile_id FROM events WHERE session_id = ? AND name = 'signup_completed'", [custom.sessionId]);
    expect(row).toEqual({ profile_id: "user_1" });

    clock += MINUTE;
    await stored(hit({ n: "identify", i: { id: "user_2" } }));
    const next = await stored(hit({ n: "clicked_buy" }));
    const latest = await server.storage.get("SELECT profile_id FROM events WHERE session_id = ? AND name = 'clicked_buy'", [next.sessionId]);
    expect(latest).toEqual({ profile_id: "user_2" });
    const linked = await server.storage.all("SELECT profile_id FROM profile_visitors WHERE visitor_id = ? ORDER BY profile_id", [first.visitorId]);
    expect(linked).toEqual([{ profile_id: "user_1" }, { profile_id: "user_2" }]);
  });

  test("an identify without an id is refused", async () => {
    const response = await collect(hit({ n: "identify", i: { email: "x@example.com" } }));
    expect(response.status).toBe(400);
  });
});

describe("rules", () => {
  test("the pricing pattern matches with * as a wildcard and nothing else", () => {
    const matches = pricingPathMatcher("/pricing*");
    expect(["/pricing", "/pricing/", "/pricing/teams"].every(matches)).toBe(true);
    expect(["/", "/blog/pricing", "/prices"].some(matches)).toBe(false);
    expect(pricingPathMatcher("/plans.html")("/plansXhtml")).toBe(false);
    expect(pricingPathMatcher("/plans, /*/pricing")("/de/pricing")).toBe(true);
  });

  test("allowed hostnames: empty allows any, *.domain allows its subdomains", () => {
    expect(hostnameAllowed([], "anything.example")).toBe(true);
    expect(hostnameAllowed(["site.example"], "SITE.example")).toBe(true);
    expect(hostnameAllowed(["site.example"], "www.site.example")).toBe(false);
    expect(hostnameAllowed(["*.site.example"], "www.site.example")).toBe(true);
    expect(hostnameAllowed(["*.site.example"], "evilsite.example")).toBe(false);
  });
});
