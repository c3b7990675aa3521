// Connecting Stripe and Polar, and pulling from their APIs (SDKs pointed at a fake API on loopback):
// key verification, the 30-day backfill, webhook + pull writing one ledger, and resuming after a restart.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { startServer, type RunningServer } from "../server.ts";
import type { Project } from "../projects/service.ts";
import { everyRowAsText, sqliteFilesAsText } from "../testing/stored.ts";
import { startTestServer } from "../testing/harness.ts";
import { checkoutSession, expectReportMatchesLedger, fakeProviderApi, polarOrder, sendPolar, sendStripe, stripeEvent } from "./testing.ts";
import { setProviderEndpoints } from "./endpoints.ts";
import { paymentScheduler } from "./pull.ts";
import { loadPayments } from "./service.ts";
import { CREATED_SECRET, STRIPE_KEY, stripeFake } from "./stripe/fake-api.ts";

const POLAR_TOKEN = "polar_oat_pull_test_token_000000";
const WEBHOOK_SECRET = "whsec_pull_test_secret";
const DAY_S = 86_400;

interface Instance {
  server: RunningServer;
  project: Project;
  key: string;
  api(path: string, init?: { method?: string; json?: unknown }): Promise<Response>;
  /** Stops the server and removes its data dir. */
  close(): Promise<void>;
}

const cleanups: (() => unknown)[] = [];

// Everything the server prints during these tests, to prove no credential ever reaches a log.
const printed: string[] = [];
const originalConsole = { log: console.log, warn: console.warn, error: console.error, info: console.info };
beforeAll(() => {
  for (const level of ["log", "warn", "error", "info"] as const) {
    console[level] = (...args: unknown[]) => {
      printed.push(args.map((a) => (a instanceof Error ? `${a.message} ${a.stack}` : typeof a === "string" ? a : JSON.stringify(a))).join(" "));
      originalConsole[level](...args);
    };
  }
});
afterAll(() => Object.assign(console, originalConsole));
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});
afterAll(() => {
  const secrets = [STRIPE_KEY, POLAR_TOKEN, WEBHOOK_SECRET, "polar_whs_pull"];
  for (const line of printed) for (const secret of secrets) expect(line).not.toContain(secret);
});

/**
 * Credentials are sealed with BANTICO_SECRET: the database holds none in plain text (on SQLite its files'
 * bytes, on PostgreSQL every row of every table as text).
 */
async function expectNoPlaintextCredentials(instance: Instance) {
  const { storage, config } = instance.server.instance.ctx;
  const stored = storage.engine === "sqlite" ? sqliteFilesAsText(config.dataDir) : await everyRowAsText(storage);
  expect(stored.length).toBeGreaterThan(0);
  for (const secret of [STRIPE_KEY, POLAR_TOKEN, WEBHOOK_SECRET, "polar_whs_pull"]) expect(stored.includes(secret)).toBe(false);
}

function instanceOf(server: RunningServer, project: Project, key: string, close: () => Promise<void>): Instance {
  return {
    server,
    project,
    key,
    close,
    api: (path, init = {}) =>
      fetch(`${server.url}${path}`, {
        method: init.method ?? "GET",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: init.json === undefined ? undefined : JSON.stringify(init.json),
      }),
  };
}

/** Starts the real server on the test engine with the SDKs pointed at `fakeUrl`. */
async function start(fakeUrl: string, env: Record<string, string> = {}): Promise<Instance> {
  const server = await startTestServer({ env });
  setProviderEndpoints(server.instance.ctx, { stripe: fakeUrl, polar: fakeUrl });
  return instanceOf(server, server.project, server.apiKey, () => server.close());
}

/** Starts again what `stopped` served: its configuration, so its data dir and database. */
async function restart(stopped: Instance, fakeUrl: string): Promise<Instance> {
  const { config } = stopped.server.instance.ctx;
  const server = await startServer(config, { hostname: "127.0.0.1" });
  setProviderEndpoints(server.instance.ctx, { stripe: fakeUrl, polar: fakeUrl });
  return instanceOf(server, stopped.project, stopped.key, async () => {
    await server.stop();
    rmSync(config.dataDir, { recursive: true, force: true });
  });
}

async function finishPull(instance: Instance, provider: "stripe" | "polar") {
  return paymentScheduler(instance.server.instance.ctx)!.runNow(instance.project.id, provider);
}

/** Waits (bounded) until the integration's status satisfies `done`: the pull kicked by connect or start runs on its own. */
async function waitForStatus(instance: Instance, provider: "stripe" | "polar", done: (status: { status: string; backfill: { state: string } }) => boolean) {
  for (let i = 0; i < 500; i++) {
    const all = await (await instance.api("/api/v1/integrations")).json();
    const status = all.find((s: { provider: string }) => s.provider === provider);
    if (done(status)) return status;
    await Bun.sleep(10);
  }
  throw new Error(`${provider} pull did not settle`);
}

describe("Stripe connection and pull", () => {
  test("a key without Events read access is refused, naming the missing permission, and nothing is stored", async () => {
    const fake = stripeFake([]);
    const instance = await start(fake.url);
    cleanups.push(fake.stop, () => instance.close());
    const response = await instance.api("/api/v1/integrations/stripe", { method: "PUT", json: { apiKey: "rk_test_noevents" } });
    expect(response.status).toBe(400);
    const error = (await response.json()).error;
    expect(error).toMatchObject({ code: "missing_permission" });
    expect(error.message).toContain("Events: Read (rak_event_read)");
    const wrong = await instance.api("/api/v1/integrations/stripe", { method: "PUT", json: { apiKey: "rk_test_unknownkey" } });
    expect((await wrong.json()).error.code).toBe("invalid_credential");
    const status = await (await instance.api("/api/v1/integrations")).json();
    expect(status.find((s: { provider: string }) => s.provider === "stripe").connected).toBe(false);
  });

  test("connecting backfills 30 days; webhook and pull deliveries of one payment count once; the key never shows", async () => {
    const now = Math.floor(Date.now() / 1000);
    const events = Array.from({ length: 230 }, (_, i) =>
      stripeEvent("checkout.session.completed", checkoutSession({ amount_total: 1000 + i, metadata: { campaignId: `c${i % 3}` } }), { created: now - i * 600 }),
    );
    events.push(stripeEvent("checkout.session.completed", checkoutSession({ metadata: { campaignId: "too_old" } }), { created: now - 40 * DAY_S }));
    const fake = stripeFake(events);
    const instance = await start(fake.url);
    cleanups.push(fake.stop, () => instance.close());
    // The same payment arrives by webhook before the pull sees it.
    const connected = await instance.api("/api/v1/integrations/stripe", { method: "PUT", json: { apiKey: STRIPE_KEY, webhookSecret: WEBHOOK_SECRET } });
    expect(connected.status).toBe(200);
    const body = await connected.text();
    expect(body).not.toContain(STRIPE_KEY);
    expect(body).not.toContain(WEBHOOK_SECRET);
    expect(JSON.parse(body)).toMatchObject({ status: "connected", hasCredential: true, hasWebhookSecret: true, credentialHint: "rk_test_…0000" });
    await sendStripe(instance.server.url, instance.project.id, events[5], WEBHOOK_SECRET);
    await waitForStatus(instance, "stripe", (s) => s.backfill.state === "done");
    const ledger = (await loadPayments(instance.server.instance.ctx.storage, instance.project.id, { limit: 1000 })).payments;
    expect(ledger).toHaveLength(230);
    expect(new Set(ledger.map((p) => p.providerIds.paymentIntentId)).size).toBe(230);
    const status = await (await instance.api("/api/v1/integrations")).json();
    expect(status[0]).toMatchObject({ provider: "stripe", status: "connected", backfill: { state: "done", processed: 230, progress: 1 } });
    expect(status[0].lastPullAt).toBeGreaterThan(0);
    expect(JSON.stringify(status)).not.toContain(STRIPE_KEY);
    // The first request asked Stripe for the last 30 days only.
    expect(Number(fake.requests.find((r) => r.path === "/v1/events" && r.query.has("created[gt]"))!.query.get("created[gt]"))).toBeGreaterThan(now - 31 * DAY_S);
    // A later pull asks only for what is new. The backfill's run may still be ending after its last status
    // write (releasing its lease), and runNow joins a run under way: the second call is a later pull.
    await finishPull(instance, "stripe");
    await finishPull(instance, "stripe");
    expect(Number(fake.requests.at(-1)!.query.get("created[gt]"))).toBeGreaterThan(now - 3600);
    expect((await loadPayments(instance.server.instance.ctx.storage, instance.project.id, { limit: 1000 })).payments).toHaveLength(230);
  });

  test("while another node holds an integration's pull it is not pulled here; once that node's lease has expired, this node backfills it", async () => {
    const now = Math.floor(Date.now() / 1000);
    const events = Array.from({ length: 12 }, (_, i) => stripeEvent("checkout.session.completed", checkoutSession({ amount_total: 500 + i }), { created: now - i * 600 }));
    const fake = stripeFake(events);
    const instance = await start(fake.url);
    cleanups.push(fake.stop, () => instance.close());
    const { ctx } = instance.server.instance;
    const lease = `pull:${instance.project.id}:stripe`;
    await ctx.storage.run("INSERT INTO job_leases (name, holder, expires_at) VALUES (?, 'another-node', ?)", [lease, Date.now() + 60_000]);
    expect((await instance.api("/api/v1/integrations/stripe", { method: "PUT", json: { apiKey: STRIPE_KEY } })).status).toBe(200);
    expect(await finishPull(instance, "stripe")).toMatchObject({ processed: 0, elsewhere: true });
    expect(fake.requests.filter((r) => r.path === "/v1/events" && r.query.has("created[gt]"))).toHaveLength(0);
    // The other node died: its lease ran out.
    await ctx.storage.run("UPDATE job_leases SET expires_at = ? WHERE name = ?", [Date.now() - 1, lease]);
    expect(await finishPull(instance, "stripe")).toMatchObject({ processed: 12, complete: true });
    expect((await loadPayments(ctx.storage, instance.project.id, { limit: 100 })).payments).toHaveLength(12);
    // Released when done: no row is left holding the integration.
    expect(await ctx.storage.all("SELECT holder FROM job_leases WHERE name = ?", [lease])).toEqual([]);
  });

  test("a lease left by the server that served this data dir before (it crashed mid-pull) does not hold back the restarted one", async () => {
    const now = Math.floor(Date.now() / 1000);
    const fake = stripeFake(Array.from({ length: 3 }, (_, i) => stripeEvent("checkout.session.completed", checkoutSession({ amount_total: 700 + i }), { created: now - i * 600 })));
    const instance = await start(fake.url);
    cleanups.push(fake.stop, () => instance.close());
    const { ctx } = instance.server.instance;
    await ctx.storage.run("INSERT INTO job_leases (name, holder, expires_at) VALUES (?, ?, ?)", [`pull:${instance.project.id}:stripe`, ctx.nodeId, Date.now() + 60_000]);
    expect((await instance.api("/api/v1/integrations/stripe", { method: "PUT", json: { apiKey: STRIPE_KEY } })).status).toBe(200);
    expect(await finishPull(instance, "stripe")).toMatchObject({ complete: true });
    expect((await loadPayments(ctx.storage, instance.project.id, { limit: 100 })).payments).toHaveLength(3);
  });

  test("with a public URL, connect creates the webhook endpoint when the key may, and says how otherwise", async () => {
    const allowed = stripeFake([], { mayCreateEndpoints: true });
    const instance = await start(allowed.url, { BANTICO_BASE_URL: "https://bantico.example.com" });
    cleanups.push(allowed.stop, () => instance.close());
    const connected = await (await instance.api("/api/v1/integrations/stripe", { method: "PUT", json: { apiKey: STRIPE_KEY } })).json();
    expect(connected).toMatchObject({ status: "connected", hasWebhookSecret: true });
    expect(connected.message).toContain("webhook endpoint we_test_1 created");
    expect(JSON.stringify(connected)).not.toContain(CREATED_SECRET);
    const created = allowed.requests.find((r) => r.path === "/v1/webhook_endpoints")!;
    expect(created.method).toBe("POST");
    const delivered = await sendStripe(instance.server.url, instance.project.id, stripeEvent("checkout.session.completed", checkoutSession()), CREATED_SECRET);
    expect(delivered.status).toBe(200);
    // Disconnecting deletes the endpoint it created, with the key it was created with.
    const disconnected = await (await instance.api("/api/v1/integrations/stripe", { method: "DELETE" })).json();
    expect(disconnected).toMatchObject({ connected: false, message: "webhook endpoint we_test_1 deleted" });
    const deleted = allowed.requests.find((r) => r.method === "DELETE")!;
    expect(deleted.path).toBe("/v1/webhook_endpoints/we_test_1");
    expect(deleted.authorization).toBe(`Bearer ${STRIPE_KEY}`);

    const readOnly = stripeFake([]);
    const other = await start(readOnly.url, { BANTICO_BASE_URL: "https://bantico.example.com" });
    cleanups.push(readOnly.stop, () => other.close());
    const pullOnly = await (await other.api("/api/v1/integrations/stripe", { method: "PUT", json: { apiKey: STRIPE_KEY } })).json();
    expect(pullOnly).toMatchObject({ status: "connected", hasWebhookSecret: false });
    expect(pullOnly.message).toContain("Webhook Endpoints: Write");
    const pullOnlyGone = await (await other.api("/api/v1/integrations/stripe", { method: "DELETE" })).json();
    expect(pullOnlyGone).toMatchObject({ connected: false, message: "" });
    expect(readOnly.requests.some((r) => r.method === "DELETE")).toBe(false);
  });

  test("a restart in the middle of a backfill resumes where it stopped", async () => {
    const now = Math.floor(Date.now() / 1000);
    const events = Array.from({ length: 250 }, (_, i) => stripeEvent("checkout.session.completed", checkoutSession({ amount_total: 500 }), { created: now - i * 60 }));
    // The third page fails once (Stripe down, or the process killed while asking for it).
    const failAfter = events[199]!.id;
    const fake = stripeFake(events, { failOnceAfter: failAfter });
    const first = await start(fake.url);
    cleanups.push(fake.stop);
    expect((await first.api("/api/v1/integrations/stripe", { method: "PUT", json: { apiKey: STRIPE_KEY } })).status).toBe(200);
    const midway = await waitForStatus(first, "stripe", (s) => s.status === "error");
    expect(midway).toMatchObject({ status: "error", backfill: { state: "running", processed: 200 } });
    expect(midway.lastError).toContain("pull failed");
    // Stripe gives no total: progress is the share of the 30-day window already read.
    expect(midway.backfill.progress).toBeGreaterThan(0);
    await first.server.stop();

    const requestsBefore = fake.requests.length;
    const second = await restart(first, fake.url);
    cleanups.push(() => second.close());
    await waitForStatus(second, "stripe", (s) => s.backfill.state === "done");
    const resumed = fake.requests.slice(requestsBefore).filter((r) => r.path === "/v1/events");
    expect(resumed[0]!.query.get("starting_after")).toBe(failAfter);
    expect((await loadPayments(second.server.instance.ctx.storage, second.project.id, { limit: 1000 })).payments).toHaveLength(250);
    const done = await (await second.api("/api/v1/integrations")).json();
    expect(done[0]).toMatchObject({ status: "connected", backfill: { state: "done", processed: 250 } });
    await expectNoPlaintextCredentials(second);
  });
});

const POLAR_ENDPOINT_SECRET = "polar_whs_created_by_connect";

function polarFake(orders: ReturnType<typeof polarOrder>[], options: { failPageOnce?: number; mayDeleteEndpoints?: boolean } = {}) {
  let failed = false;
  return fakeProviderApi((request, url) => {
    const auth = request.headers.get("authorization") ?? "";
    if (auth.includes("noscope")) return Response.json({ error: "insufficient_scope", detail: "The access token does not have the required scope." }, { status: 403 });
    if (!auth.includes(POLAR_TOKEN)) return Response.json({ error: "invalid_token", detail: "Unauthorized" }, { status: 401 });
    if (url.pathname === "/v1/webhooks/endpoints" && request.method === "POST") {
      const now = new Date().toISOString();
      return Response.json(
        { id: "we_polar_1", created_at: now, modified_at: null, url: "https://bantico.example.com/webhooks/polar/x", name: null, api_version: "2026-10", format: "raw", secret: POLAR_ENDPOINT_SECRET, organization_id: "org_1", events: ["order.paid"], enabled: true },
        { status: 201 },
      );
    }
    if (url.pathname === "/v1/webhooks/endpoints/we_polar_1" && request.method === "DELETE") {
      if (!options.mayDeleteEndpoints) return Response.json({ error: "insufficient_scope", detail: "The access token does not have the required scope." }, { status: 403 });
      return new Response(null, { status: 204 });
    }
    const page = Number(url.searchParams.get("page") ?? 1);
    const limit = Number(url.searchParams.get("limit") ?? 10);
    if (page === options.failPageOnce && !failed) {
      failed = true;
      return new Response("upstream timeout", { status: 503 });
    }
    const after = url.searchParams.get("created_after");
    const statuses = url.searchParams.getAll("status");
    const matching = orders
      .filter((o) => (!after || o.created_at > after) && (statuses.length === 0 || statuses.includes(o.status)))
      .sort((a, b) => a.created_at.localeCompare(b.created_at));
    return Response.json({
      items: matching.slice((page - 1) * limit, page * limit),
      pagination: { total_count: matching.length, max_page: Math.max(1, Math.ceil(matching.length / limit)) },
    });
  });
}

describe("Polar connection and pull", () => {
  test("a token without orders:read, or an invalid token, is refused and nothing is stored", async () => {
    const fake = polarFake([]);
    const instance = await start(fake.url);
    cleanups.push(fake.stop, () => instance.close());
    const noScope = await instance.api("/api/v1/integrations/polar", { method: "PUT", json: { accessToken: "polar_oat_noscope" } });
    expect(noScope.status).toBe(400);
    expect((await noScope.json()).error.message).toContain("orders:read");
    const invalid = await instance.api("/api/v1/integrations/polar", { method: "PUT", json: { accessToken: "polar_oat_wrong" } });
    expect((await invalid.json()).error.code).toBe("invalid_credential");
    const empty = await instance.api("/api/v1/integrations/polar", { method: "PUT", json: {} });
    expect(empty.status).toBe(400);
    const status = await (await instance.api("/api/v1/integrations")).json();
    expect(status[1]).toMatchObject({ provider: "polar", connected: false });
  });

  test("with a public URL, connect creates the webhook endpoint, and a disconnect deletes it or says it could not", async () => {
    for (const mayDeleteEndpoints of [true, false]) {
      const fake = polarFake([], { mayDeleteEndpoints });
      const instance = await start(fake.url, { BANTICO_BASE_URL: "https://bantico.example.com" });
      cleanups.push(fake.stop, () => instance.close());
      const connected = await (await instance.api("/api/v1/integrations/polar", { method: "PUT", json: { accessToken: POLAR_TOKEN } })).json();
      expect(connected).toMatchObject({ status: "connected", hasWebhookSecret: true });
      expect(connected.message).toContain("webhook endpoint we_polar_1 created");
      const delivered = await sendPolar(instance.server.url, instance.project.id, { type: "order.paid", timestamp: new Date().toISOString(), data: polarOrder() }, POLAR_ENDPOINT_SECRET);
      expect(delivered.status).toBe(200);

      const disconnected = await (await instance.api("/api/v1/integrations/polar", { method: "DELETE" })).json();
      expect(disconnected.connected).toBe(false);
      expect(disconnected.message).toBe(
        mayDeleteEndpoints
          ? "webhook endpoint we_polar_1 deleted"
          : "webhook endpoint we_polar_1 could not be deleted (the key may not delete webhook endpoints); delete it in Polar's dashboard",
      );
      expect(fake.requests.filter((r) => r.method === "DELETE").map((r) => r.path)).toEqual(["/v1/webhooks/endpoints/we_polar_1"]);
    }
  });

  test("orders are backfilled page by page, refunds included, webhook and pull counted once, and a restart resumes", async () => {
    const base = Date.now() - 10 * 86_400_000;
    const orders = Array.from({ length: 250 }, (_, i) => polarOrder({ created_at: new Date(base + i * 60_000).toISOString(), metadata: { source: "polar_pull" } }));
    orders[3] = { ...orders[3]!, status: "partially_refunded", refunded_amount: 1200, refunded_tax_amount: 200 };
    const fake = polarFake(orders, { failPageOnce: 2 });
    const first = await start(fake.url);
    cleanups.push(fake.stop);
    const connected = await first.api("/api/v1/integrations/polar", { method: "PUT", json: { accessToken: POLAR_TOKEN, webhookSecret: "polar_whs_pull" } });
    expect(connected.status).toBe(200);
    await sendPolar(first.server.url, first.project.id, { type: "order.paid", timestamp: new Date().toISOString(), data: orders[7] }, "polar_whs_pull");
    const midway = await waitForStatus(first, "polar", (s) => s.status === "error");
    expect(midway).toMatchObject({ status: "error", backfill: { state: "running", processed: 100 } });
    await first.server.stop();

    const requestsBefore = fake.requests.length;
    const second = await restart(first, fake.url);
    cleanups.push(() => second.close());
    await waitForStatus(second, "polar", (s) => s.backfill.state === "done");
    const pages = fake.requests.slice(requestsBefore).filter((r) => !r.query.has("status")).map((r) => r.query.get("page"));
    expect(pages).toEqual(["2", "3"]);
    const ledger = (await loadPayments(second.server.instance.ctx.storage, second.project.id, { limit: 1000 })).payments;
    expect(ledger.filter((p) => p.kind === "sale")).toHaveLength(250);
    expect(ledger.filter((p) => p.kind === "refund").map((p) => p.amount)).toEqual([-1200]);
    expect(ledger.every((p) => p.attribution.source === "polar_pull")).toBe(true);
    const done = await (await second.api("/api/v1/integrations")).json();
    expect(done[1]).toMatchObject({ status: "connected", backfill: { state: "done", processed: 250, progress: 1 } });
    await expectReportMatchesLedger(second.server.instance.ctx, second.project.id);
    await expectNoPlaintextCredentials(second);
  });
});
