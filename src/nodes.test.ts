// Two Bantico server processes on one PostgreSQL database (SPEC §11), as a load balancer would see them:
// a link created on node A is followed on node B; the same webhook delivered to both at once counts
// once; and a backfill started on A, whose process is then killed, is finished by B from where A's
// last committed page left it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { join } from "node:path";
import { connectNode, type TestDatabase } from "./testing/engines.ts";
import { freshPostgresDatabase } from "./testing/postgres.ts";
import { connectPostgres } from "./db/postgres/connection.ts";
import { migratePostgres } from "./db/postgres/migrate.ts";
import { postgresMigrations } from "./db/postgres/migrations.ts";
import { cliEnv, readUntil, scratchDirs } from "./testing/cli.ts";
import { postgresNodeEnv } from "./testing/harness.ts";
import { createProject, type Project } from "./projects/service.ts";
import { createApiKey } from "./auth/api-keys.ts";
import { checkoutSession, sendStripe, stripeEvent } from "./payments/testing.ts";
import { STRIPE_KEY, stripeFake } from "./payments/stripe/fake-api.ts";

const NODE_ENTRY = join(import.meta.dir, "testing", "node-process.ts");
const WEBHOOK_SECRET = "whsec_two_nodes_one_database";
const UA = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const BACKFILL_EVENTS = 450;
const dataDir = scratchDirs("bantico-nodes");

interface Node {
  url: string;
  nodeId: string;
  process: Subprocess<"ignore", "pipe", "pipe">;
}

let database: TestDatabase;
let project: Project;
let apiKey: string;
let a: Node;
let b: Node;
const now = Math.floor(Date.now() / 1000);
// Newest first, a minute apart: five pages of a hundred, each answered after 300 ms, so A is killed mid-backfill.
const backfill = Array.from({ length: BACKFILL_EVENTS }, (_, i) => stripeEvent("checkout.session.completed", checkoutSession({ amount_total: 1000 + i }), { created: now - 3600 - i * 60 }));
const stripe = stripeFake(backfill, { pageDelayMs: 300 });

async function startNode(url: string): Promise<Node> {
  const child = Bun.spawn([process.execPath, NODE_ENTRY], {
    env: cliEnv({
      PORT: "0",
      BANTICO_DATA_DIR: dataDir(),
      ...postgresNodeEnv(url),
      BANTICO_FX_URL: "off",
      BANTICO_TEST_PROVIDER_URL: stripe.url,
    }),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const line = await readUntil(child.stdout, /\n/);
  const started = JSON.parse(line.trim().split("\n").at(-1)!) as { url: string; nodeId: string };
  return { ...started, process: child };
}

function api(node: Node, path: string, init: { method?: string; json?: unknown } = {}): Promise<Response> {
  return fetch(`${node.url}${path}`, {
    method: init.method ?? "GET",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
}

const count = async (sql: string, params: (string | number)[] = []) => (await database.storage.get<{ n: number }>(`SELECT CAST(count(*) AS BIGINT) AS n FROM ${sql}`, params))!.n;

beforeAll(async () => {
  const url = await freshPostgresDatabase();
  const setup = connectPostgres(url, { integers: true });
  await migratePostgres(setup, postgresMigrations);
  await setup.close();
  database = connectNode(url);
  project = await createProject(database.storage, { name: "Two nodes" });
  apiKey = (await createApiKey(database.storage, project.id, "tests")).key;
  [a, b] = await Promise.all([startNode(url), startNode(url)]);
});

afterAll(async () => {
  for (const node of [a, b]) {
    if (!node || node.process.exitCode !== null || node.process.killed) continue;
    node.process.kill("SIGTERM");
    await node.process.exited;
  }
  stripe.stop();
  await database?.close();
});

describe("two server processes on one PostgreSQL database", () => {
  test("two nodes, two node ids", () => {
    expect(a.nodeId).not.toBe(b.nodeId);
  });

  test("a link created on node A redirects on node B within a second", async () => {
    const created = await api(a, "/api/v1/links", { method: "POST", json: { destinationUrl: "https://shop.example/launch", slug: "two-nodes" } });
    expect(created.status).toBe(201);
    const started = Date.now();
    let response = await fetch(`${b.url}/l/two-nodes`, { redirect: "manual", headers: { "user-agent": UA } });
    while (response.status === 404 && Date.now() - started < 1000) {
      await Bun.sleep(20);
      response = await fetch(`${b.url}/l/two-nodes`, { redirect: "manual", headers: { "user-agent": UA } });
    }
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toStartWith("https://shop.example/launch");
  });

  test("the same webhook delivered to both nodes at once is one payment, ten times over; one answer of each pair says duplicate", async () => {
    expect((await api(a, "/api/v1/integrations/stripe", { method: "PUT", json: { webhookSecret: WEBHOOK_SECRET } })).status).toBe(200);
    for (let i = 0; i < 10; i++) {
      const event = stripeEvent("checkout.session.completed", checkoutSession({ amount_total: 4900 + i }));
      const answers = await Promise.all([a, b].map((node) => sendStripe(node.url, project.id, event, WEBHOOK_SECRET)));
      expect(answers.map((r) => r.status)).toEqual([200, 200]);
      const bodies = (await Promise.all(answers.map((r) => r.json()))) as { duplicate: boolean }[];
      expect(bodies.map((body) => body.duplicate).sort()).toEqual([false, true]);
    }
    expect(await count("payments WHERE project_id = ?", [project.id])).toBe(10);
    expect(await count("provider_events WHERE project_id = ?", [project.id])).toBe(10);
  });

  test("a backfill started on node A, whose process is killed mid-way, is finished by node B from A's last committed page", async () => {
    const before = await count("payments WHERE project_id = ?", [project.id]);
    expect((await api(a, "/api/v1/integrations/stripe", { method: "PUT", json: { apiKey: STRIPE_KEY } })).status).toBe(200);
    const processed = () => database.storage.get<{ backfill_processed: number; backfill_state: string }>("SELECT backfill_processed, backfill_state FROM integrations WHERE project_id = ? AND provider = 'stripe'", [project.id]);
    for (const started = Date.now(); ((await processed())?.backfill_processed ?? 0) < 100 && Date.now() - started < 10_000; ) await Bun.sleep(20);
    a.process.kill("SIGKILL");
    await a.process.exited;
    const atKill = (await processed())!;
    expect(atKill.backfill_state).toBe("running");
    expect(atKill.backfill_processed).toBeGreaterThanOrEqual(100);
    expect(atKill.backfill_processed).toBeLessThan(BACKFILL_EVENTS);
    // The page A was waiting for when it died is still answered (into a closed socket): counted before B starts.
    await Bun.sleep(400);
    const servedBeforeB = stripe.served.length;

    // A dead node's lease runs out a minute after its last renewal: moved to now rather than waited for.
    await database.storage.run("UPDATE job_leases SET expires_at = 0 WHERE name LIKE 'pull:%'");
    // The same key again, on B: a rotated key keeps the cursor, and connecting pulls at once.
    expect((await api(b, "/api/v1/integrations/stripe", { method: "PUT", json: { apiKey: STRIPE_KEY } })).status).toBe(200);
    for (const started = Date.now(); (await processed())!.backfill_state !== "done" && Date.now() - started < 20_000; ) await Bun.sleep(50);
    expect((await processed())!.backfill_state).toBe("done");

    expect(await count("payments WHERE project_id = ?", [project.id])).toBe(before + BACKFILL_EVENTS);
    // B's pull read only what A had not committed: the pages after A's cursor, the one A was reading when killed
    // included (connect's key check lists one event, not a page of a hundred).
    const readByB = stripe.served.slice(servedBeforeB).reduce((sum, page) => sum + (page.limit === 100 ? page.events : 0), 0);
    expect(readByB).toBe(BACKFILL_EVENTS - atKill.backfill_processed);
  }, 60_000);
});
