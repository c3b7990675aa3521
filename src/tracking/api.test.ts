import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../testing/harness.ts";

const UA = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const count = async (sql: string) => (await server.storage.get<{ n: number }>(sql))!.n;

async function visit(url: string) {
  const response = await fetch(`${server.url}/api/collect`, {
    method: "POST",
    body: JSON.stringify({ t: server.project.token, n: "page_view", u: url }),
    headers: { "user-agent": UA },
  });
  return (await response.json()) as { visitorId: string; sessionId: string };
}

describe("POST /api/v1/events", () => {
  test("a server-side signup joins the visitor's session, takes its context and counts as a signup", async () => {
    const { visitorId, sessionId } = await visit("https://site.example/?utm_source=podcast&utm_campaign=ep12");
    const response = await server.api("/api/v1/events", {
      method: "POST",
      json: { name: "signup_completed", visitorId, userId: "user_9", email: "New@Example.com", props: { plan: "pro" } },
    });
    expect(response.status).toBe(201);
    const body = (await response.json()) as { eventId: number; sessionId: string; profileId: string };
    expect(body).toMatchObject({ sessionId, profileId: "user_9" });
    const event = await server.storage.get("SELECT name, source, campaign_id, profile_id, props FROM events WHERE id = ?", [body.eventId]);
    expect(event).toEqual({ name: "signup_completed", source: "podcast", campaign_id: "ep12", profile_id: "user_9", props: '{"plan":"pro"}' });
    await server.instance.ctx.writes.settle();
    expect(await count("SELECT CAST(sum(signups) AS BIGINT) AS n FROM context_stats_hourly WHERE source = 'podcast'")).toBe(1);
    expect(await server.storage.get("SELECT email FROM profiles WHERE id = 'user_9'")).toEqual({ email: "new@example.com" });
  });

  test("an email alone finds the identified profile and its visitor", async () => {
    const { visitorId } = await visit("https://site.example/");
    await server.api("/api/v1/identify", { method: "POST", json: { id: "user_10", email: "ten@example.com", visitorId } });
    const response = await server.api("/api/v1/events", { method: "POST", json: { name: "trial_started", email: " TEN@example.com" } });
    const body = (await response.json()) as { visitorId: string; profileId: string };
    expect(body).toMatchObject({ visitorId, profileId: "user_10" });
  });

  test("absurd timestamps, server-only names, bad props and missing keys are refused and store nothing", async () => {
    const before = await count("SELECT count(*) AS n FROM events");
    const bodies = [
      { name: "signup_completed", timestamp: "1970-01-01T00:00:00Z" },
      { name: "signup_completed", timestamp: Date.now() + 86_400_000 },
      { name: "signup_completed", timestamp: "yesterday" },
      { name: "payment_completed" },
      { name: "link_clicked" },
      { name: "x", props: { a: { b: { c: { d: {} } } } } },
      { name: "x", visitorId: "not a visitor id!" },
      {},
    ];
    for (const json of bodies) {
      const response = await server.api("/api/v1/events", { method: "POST", json });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { code: string; message: string } }).error.message).toBeString();
    }
    const unauthenticated = await fetch(`${server.url}/api/v1/events`, { method: "POST", body: "{}" });
    expect(unauthenticated.status).toBe(401);
    const notJson = await server.api("/api/v1/events", { method: "POST", body: "{oops", headers: { "content-type": "application/json" } });
    expect(notJson.status).toBe(400);
    expect(await count("SELECT count(*) AS n FROM events")).toBe(before);
  });

  test("a past timestamp within range is kept", async () => {
    const ts = Date.now() - 3 * 86_400_000;
    const response = await server.api("/api/v1/events", { method: "POST", json: { name: "invoice_sent", timestamp: new Date(ts).toISOString() } });
    const { eventId } = (await response.json()) as { eventId: number };
    expect(await server.storage.get("SELECT ts FROM events WHERE id = ?", [eventId])).toEqual({ ts });
  });
});

describe("POST /api/v1/identify", () => {
  test("a profile gathers many visitors, and a second identify updates it without losing traits", async () => {
    const a = await visit("https://site.example/a");
    const response = await server.api("/api/v1/identify", {
      method: "POST",
      json: { id: "user_20", email: "  Twenty@Example.com ", name: "Twenty", traits: { plan: "free" }, visitorId: a.visitorId },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ id: "user_20", email: "twenty@example.com", name: "Twenty", traits: { plan: "free" }, visitorIds: [a.visitorId] });
    const again = await server.api("/api/v1/identify", { method: "POST", json: { id: "user_20", traits: { seats: 3 }, visitorId: "persisted0visitor" } });
    expect(await again.json()).toMatchObject({ email: "twenty@example.com", traits: { plan: "free", seats: 3 }, visitorIds: [a.visitorId, "persisted0visitor"] });
  });

  test("an identify without an id is refused", async () => {
    const response = await server.api("/api/v1/identify", { method: "POST", json: { email: "x@example.com" } });
    expect(response.status).toBe(400);
  });
});

test("the OpenAPI document lists the links, events and identify operations", async () => {
  const doc = (await (await fetch(`${server.url}/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
  expect(Object.keys(doc.paths["/links"]!)).toEqual(["post", "get"]);
  expect(Object.keys(doc.paths["/links/{linkId}"]!)).toEqual(["get", "patch", "delete"]);
  expect(doc.paths["/events"]!.post).toBeDefined();
  expect(doc.paths["/identify"]!.post).toBeDefined();
});
