// Two real servers (nodes) on one PostgreSQL database (SPEC §11): a link created through node A's API
// redirects on node B, and its click lands in the shared database; the tracker's events reach the
// database through either node and say so only once committed; a session signed in on A holds on B; the
// reports on B count what came through both nodes; and what does not run on PostgreSQL yet answers 503
// saying so, never 500.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { postgresNodeEnv, startTestServer, type TestServer } from "./testing/harness.ts";
import { signIn } from "./dashboard/test-client.ts";
import { createUser } from "./auth/users.ts";

const UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15";
let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  a = await startTestServer({ engine: "postgres" });
  b = await startTestServer({ engine: "postgres", env: postgresNodeEnv(a.instance.ctx.config.databaseUrl!) });
});
afterAll(async () => {
  await b?.close();
  await a?.close();
});

/** Node B, with node A's project and API key: both are in the one database. */
const onB = (path: string, init: RequestInit & { json?: unknown } = {}) => fetch(`${b.url}${path}`, withKey(init));
function withKey({ json, ...init }: RequestInit & { json?: unknown }): RequestInit {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${a.apiKey}`);
  if (json !== undefined) headers.set("content-type", "application/json");
  return { ...init, headers, body: json !== undefined ? JSON.stringify(json) : init.body };
}

describe("two nodes on one PostgreSQL database", () => {
  test("each node has its own node id, and both read one database", () => {
    expect(a.instance.ctx.storage.engine).toBe("postgres");
    expect(a.instance.ctx.nodeId).toStartWith("node_");
    expect(b.instance.ctx.nodeId).toStartWith("node_");
    expect(a.instance.ctx.nodeId).not.toBe(b.instance.ctx.nodeId);
  });

  test("a link created on A redirects on B within a second, and B's click is in the database", async () => {
    const created = await a.api("/api/v1/links", { method: "POST", json: { destinationUrl: "https://shop.example/pricing", slug: "pg-nodes", campaignId: "launch" } });
    expect(created.status).toBe(201);
    let response: Response | null = null;
    for (const start = Date.now(); Date.now() - start < 1000; await Bun.sleep(20)) {
      response = await fetch(`${b.url}/l/pg-nodes`, { redirect: "manual", headers: { "user-agent": UA } });
      if (response.status !== 404) break;
    }
    expect(response!.status).toBe(302);
    expect(response!.headers.get("location")).toStartWith("https://shop.example/pricing");
    const clicks = await a.instance.ctx.storage.all<{ link_id: string }>("SELECT link_id FROM clicks WHERE project_id = ?", [a.project.id]);
    expect(clicks).toHaveLength(1);
  });

  test("page views sent to both nodes are all in the database once each node has answered", async () => {
    const send = (server: TestServer, n: number) =>
      fetch(`${server.url}/api/collect`, {
        method: "POST",
        body: JSON.stringify({ t: a.project.token, n: "page_view", u: `https://shop.example/page-${n}`, v: `visitor${n % 3}` }),
        headers: { "content-type": "text/plain", "user-agent": UA },
      });
    const answers = await Promise.all(Array.from({ length: 40 }, (_, n) => send(n % 2 === 0 ? a : b, n)));
    expect(answers.map((r) => r.status)).toEqual(Array(40).fill(200));
    const stored = await a.instance.ctx.storage.get<{ n: number }>("SELECT CAST(count(*) AS BIGINT) AS n FROM events WHERE project_id = ? AND name = 'page_view'", [a.project.id]);
    expect(stored).toEqual({ n: 40 });
  });

  test("a dashboard session signed in on A is a session on B", async () => {
    await createUser(a.instance.ctx.storage, { email: "owner@example.com", password: "a long enough password", role: "owner" });
    const client = await signIn(a, "owner@example.com", "a long enough password");
    const account = await fetch(`${b.url}/account`, { redirect: "manual", headers: { cookie: client.cookie } });
    expect(account.status).toBe(200);
    expect(await account.text()).toContain("owner@example.com");
    const signedOut = await fetch(`${b.url}/account`, { redirect: "manual" });
    expect(signedOut.status).toBe(303);
  });

  test("the summary on node B counts the visitors who came through either node, and the click", async () => {
    const response = await onB("/api/v1/reports/summary");
    expect(response.status).toBe(200);
    const summary = (await response.json()) as { visitors: number; clicks: number; signups: number };
    // visitor0, visitor1 and visitor2 on both nodes, and the one who followed the link.
    expect(summary).toMatchObject({ visitors: 4, clicks: 1, signups: 0 });
  });

  test("the traffic report by page and the funnel on node B count what came through either node", async () => {
    const traffic = await onB("/api/v1/reports/traffic?groupBy=page");
    expect(traffic.status).toBe(200);
    const { rows } = (await traffic.json()) as { rows: { key: string; visitors: number; pageviews: number }[] };
    // 40 pages, one view each; the click's visitor viewed none.
    expect(rows).toHaveLength(40);
    expect(rows.every((r) => r.visitors === 1 && r.pageviews === 1)).toBe(true);
    expect(rows.map((r) => r.key).sort()).toEqual(Array.from({ length: 40 }, (_, n) => `/page-${n}`).sort());
    const funnel = await onB("/api/v1/reports/funnel");
    expect(funnel.status).toBe(200);
    const { steps } = (await funnel.json()) as { steps: { name: string; people: number | null; tracked: boolean }[] };
    // The one who clicked viewed no page after it; the page viewers clicked nothing.
    expect(steps.filter((s) => s.tracked).map(({ name, people }) => ({ name, people }))).toEqual([
      { name: "link_clicked", people: 1 },
      { name: "page_view", people: 0 },
    ]);
  });

  test("the MRR report answers on node B (no subscriptions yet: no rows)", async () => {
    const response = await onB("/api/v1/reports/mrr");
    expect(response.status).toBe(200);
    expect(((await response.json()) as { rows: unknown[] }).rows).toEqual([]);
  });
});
