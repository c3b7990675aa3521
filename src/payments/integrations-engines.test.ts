// Payments beyond the ledger's writes, on both engines: integrations and their pull state, the payments
// API's reads, raw-event pruning, manual rates and fixings, and the background re-conversion. Where a
// test has two nodes, what one writes is read on the other (on SQLite both are the one file).
import { afterEach, expect, test } from "bun:test";
import type { AppContext } from "../context.ts";
import type { Config } from "../config.ts";
import { seal } from "../core/secret.ts";
import { readJob } from "../db/storage/jobs.ts";
import type { Engine } from "../db/storage/storage.ts";
import { createProject } from "../projects/service.ts";
import { describeOnEngines, twoNodeDatabases, type TestDatabase } from "../testing/engines.ts";
import { setProviderEndpoints } from "./endpoints.ts";
import { connectIntegration, disconnectIntegration, integrationSecret, integrationStatus, listIntegrations, pullableIntegrations, pullState, savePullProgress } from "./integrations.ts";
import { recordPayment, resumConvertedHours, resumConvertedPeriod, rewriteReporting } from "./ledger.ts";
import { runPull } from "./pull.ts";
import { loadPayment, loadPayments, loadRawEvents, loadRawEventsForPayment, pruneRawEvents, RAW_EVENT_RETENTION_DAYS } from "./service.ts";
import { changeManualRates, listRates } from "./fx/routes.ts";
import { feedStatus, recordFeedAttempt, storeFixings } from "./fx/rates.ts";
import { convertChunk, convertPendingChunk, queueReconversion, readConversionProgress, storeReportings } from "./fx/stored.ts";
import { unconvertedCurrencies } from "./fx/sums.ts";
import { emptyPayment, type IncomingPayment } from "./types.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
// Friday 13 March 2026, 09:00 UTC: the ECB publishes a fixing that day.
const START = Date.UTC(2026, 2, 13, 9);
const NOW = START + 10 * HOUR_MS;
const SECRET = "integrations-engines-test-secret-0123456789";

const open: TestDatabase[] = [];
const fakes: { stop(): void }[] = [];
afterEach(async () => {
  for (const fake of fakes.splice(0)) fake.stop();
  await Promise.all(open.splice(0).map((db) => db.close()));
});

/** What these capabilities read of the AppContext, over one node's storage and write queue. */
function contextOf(node: TestDatabase): AppContext {
  const config = { baseUrl: null } as unknown as Config;
  return { storage: node.storage, writes: node.writes, secret: SECRET, now: () => NOW, config, nodeId: "test", clientIp: () => null } as unknown as AppContext;
}

async function setup(engine: Engine) {
  const [node, other] = await twoNodeDatabases(engine, open);
  const project = await createProject(node.storage, { name: "Payments" }, START - DAY_MS);
  return { node, other, ctx: contextOf(node), otherCtx: contextOf(other), projectId: project.id };
}

/** An integration with a credential, its 30-day backfill running, as connect leaves one that the provider verified. */
async function connectedWithKey(node: TestDatabase, projectId: string, provider: "stripe" | "dodo", key: string) {
  await node.storage.run(
    `INSERT INTO integrations (project_id, provider, credential_sealed, credential_hint, status, status_message, connected_at, updated_at, backfill_state, backfill_from)
     VALUES (?, ?, ?, 'rk_test_…key', 'connected', 'connected', ?, ?, 'running', ?)`,
    [projectId, provider, seal(SECRET, key), START, START, START - 30 * DAY_MS],
  );
}

function sale(key: string, amount: number, occurredAt: number, more: Partial<IncomingPayment> = {}): IncomingPayment {
  return { ...emptyPayment("api"), kind: "sale", key, amount, tax: 0, currency: "USD", occurredAt, ...more };
}

async function record(node: TestDatabase, projectId: string, payment: IncomingPayment): Promise<string> {
  const result = await node.writes.job((tx) => recordPayment(tx, projectId, payment, null, NOW));
  return result.paymentIds[0]!;
}

describeOnEngines("integrations on the storage", (engine) => {
  test("a webhook secret saved on one node is stored sealed, and the other node reads it back and shows it in the status", async () => {
    const { node, ctx, otherCtx, other, projectId } = await setup(engine);
    const status = await connectIntegration(ctx, projectId, "stripe", { webhookSecret: "  whsec_engine_test  " });
    expect(status).toMatchObject({ provider: "stripe", connected: true, status: "webhook_only", hasWebhookSecret: true, hasCredential: false, connectedAt: NOW });
    const stored = await node.storage.get<{ webhook_secret_sealed: string }>("SELECT webhook_secret_sealed FROM integrations WHERE project_id = ?", [projectId]);
    expect(stored!.webhook_secret_sealed).not.toContain("whsec_engine_test");
    expect(await integrationSecret(otherCtx, projectId, "stripe", "webhookSecret")).toBe("whsec_engine_test");
    expect(await integrationSecret(otherCtx, projectId, "stripe", "credential")).toBeNull();
    const all = await listIntegrations(other.storage, projectId);
    expect(all.map((s) => [s.provider, s.status])).toEqual([
      ["stripe", "webhook_only"],
      ["polar", "not_connected"],
      ["dodo", "not_connected"],
      ["lemonsqueezy", "not_connected"],
      ["paddle", "not_connected"],
      ["creem", "not_connected"],
    ]);
    // Only an integration with a credential pulls.
    expect(await pullableIntegrations(other.storage)).toEqual([]);
    expect(await disconnectIntegration(otherCtx, projectId, "stripe")).toEqual({ endpoint: null });
    expect((await integrationStatus(node.storage, projectId, "stripe")).status).toBe("not_connected");
  });

  test("pull progress saved on one node is where the other node's pull resumes, and the finished pass ends the backfill", async () => {
    const { node, other, projectId } = await setup(engine);
    await connectedWithKey(node, projectId, "dodo", "dodo_key_1");
    expect(await pullableIntegrations(other.storage)).toEqual([{ projectId, provider: "dodo" }]);
    await node.writes.job((tx) => savePullProgress(tx, projectId, "dodo", { cursor: { since: START - DAY_MS }, processed: 40, fraction: 0.25, passComplete: false }, NOW));
    await node.writes.job((tx) => savePullProgress(tx, projectId, "dodo", { cursor: { since: START - DAY_MS }, processed: 12, fraction: null, passComplete: false }, NOW + 1));
    expect(await pullState<{ since: number }>(other.storage, projectId, "dodo")).toEqual({ cursor: { since: START - DAY_MS }, backfillState: "running", backfillFrom: START - 30 * DAY_MS });
    // 40 + 12 items; a page without a fraction keeps the last one.
    expect((await integrationStatus(other.storage, projectId, "dodo")).backfill).toEqual({ state: "running", from: START - 30 * DAY_MS, processed: 52, progress: 0.25, doneAt: null });
    await other.writes.job((tx) => savePullProgress(tx, projectId, "dodo", { cursor: { since: NOW }, processed: 0, fraction: 1, passComplete: true }, NOW + 2));
    expect((await integrationStatus(node.storage, projectId, "dodo")).backfill).toEqual({ state: "done", from: START - 30 * DAY_MS, processed: 52, progress: 1, doneAt: NOW + 2 });
    expect(await pullState<{ since: number }>(node.storage, projectId, "dodo")).toMatchObject({ cursor: { since: NOW }, backfillState: "done" });
  });

  test("a pull the provider fails shows its error in the status on every node, and the next saved page clears it", async () => {
    const { node, ctx, other, projectId } = await setup(engine);
    const stripe = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => Response.json({ error: { type: "api_error", message: "Something went wrong on Stripe's end" } }, { status: 500 }),
    });
    fakes.push(stripe);
    setProviderEndpoints(ctx, { stripe: `http://127.0.0.1:${stripe.port}` });
    await connectedWithKey(node, projectId, "stripe", "rk_test_engines");
    const outcome = await runPull(ctx, projectId, "stripe");
    expect(outcome).toMatchObject({ processed: 0, complete: false });
    expect(outcome.error).toBeString();
    const status = await integrationStatus(other.storage, projectId, "stripe");
    expect(status).toMatchObject({ status: "error", lastError: `pull failed: ${outcome.error}`, lastErrorAt: NOW });
    await other.writes.job((tx) => savePullProgress(tx, projectId, "stripe", { cursor: null, processed: 0, fraction: null, passComplete: false }, NOW + 5));
    expect(await integrationStatus(node.storage, projectId, "stripe")).toMatchObject({ status: "connected", lastError: null, lastErrorAt: null, lastPullAt: NOW + 5 });
  });
});

describeOnEngines("the payments API's reads on the storage", (engine) => {
  test("payments page newest first and filter by time and email the same on both engines", async () => {
    const { node, other, projectId } = await setup(engine);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await record(node, projectId, sale(`api:t${i}`, 1000 * (i + 1), START + i * HOUR_MS, i === 2 ? { email: "ada@example.com" } : {})));
    const everything = await loadPayments(other.storage, projectId);
    expect(everything.payments.map((p) => p.amount)).toEqual([5000, 4000, 3000, 2000, 1000]);
    expect(everything.nextCursor).toBeNull();
    // [START + 1 h, START + 4 h): the 2nd, 3rd and 4th payment, two a page.
    const range = { from: START + HOUR_MS, to: START + 4 * HOUR_MS, limit: 2 };
    const first = await loadPayments(other.storage, projectId, range);
    expect(first.payments.map((p) => p.id)).toEqual([ids[3]!, ids[2]!]);
    expect(first.nextCursor).toBe(`${START + 2 * HOUR_MS}_${ids[2]}`);
    const second = await loadPayments(other.storage, projectId, { ...range, cursor: first.nextCursor! });
    expect(second.payments.map((p) => p.id)).toEqual([ids[1]!]);
    expect(second.nextCursor).toBeNull();
    const byEmail = await loadPayments(other.storage, projectId, { email: " Ada@Example.com " });
    expect(byEmail.payments.map((p) => [p.id, p.email, p.amount, p.currency, p.occurredAt])).toEqual([[ids[2]!, "ada@example.com", 3000, "USD", new Date(START + 2 * HOUR_MS).toISOString()]]);
    expect((await loadPayment(other.storage, projectId, ids[4]!))).toMatchObject({ id: ids[4], kind: "sale", amount: 5000, net: 5000, reporting: { currency: "USD", amount: 5000, rateSource: "same" } });
    expect(await loadPayment(other.storage, "prj_other", ids[4]!)).toBeNull();
  });

  test("pruning raw events removes those past retention in batches with their payment links, and keeps the recent ones", async () => {
    const { node, other, projectId } = await setup(engine);
    const cutoff = NOW - RAW_EVENT_RETENTION_DAYS * DAY_MS;
    const events = [
      ["evt_old_1", cutoff - 3 * DAY_MS],
      ["evt_old_2", cutoff - 2 * DAY_MS],
      ["evt_old_3", cutoff - 1],
      ["evt_new_1", cutoff + 1],
      ["evt_new_2", NOW - HOUR_MS],
    ] as const;
    for (const [eventId, at] of events) {
      await node.storage.run(
        "INSERT INTO provider_events (project_id, provider, event_id, type, via, received_at, outcome, payment_ids, payload) VALUES (?, 'stripe', ?, 'charge.succeeded', 'webhook', ?, 'recorded', ?, '{}')",
        [projectId, eventId, at, JSON.stringify([`pay_${eventId}`])],
      );
      const row = await node.storage.get<{ id: number }>("SELECT id FROM provider_events WHERE event_id = ?", [eventId]);
      await node.storage.run("INSERT INTO provider_event_payments (payment_id, event_row) VALUES (?, ?)", [`pay_${eventId}`, row!.id]);
    }
    expect(await node.writes.job((tx) => pruneRawEvents(tx, NOW, 2))).toBe(2);
    expect(await other.writes.job((tx) => pruneRawEvents(tx, NOW, 2))).toBe(1);
    expect(await node.writes.job((tx) => pruneRawEvents(tx, NOW, 2))).toBe(0);
    expect((await loadRawEvents(other.storage, projectId)).map((e) => e.eventId)).toEqual(["evt_new_2", "evt_new_1"]);
    expect((await loadRawEvents(other.storage, projectId, { provider: "polar" })).length).toBe(0);
    expect((await loadRawEventsForPayment(other.storage, projectId, "pay_evt_new_1")).map((e) => [e.eventId, e.paymentIds])).toEqual([["evt_new_1", ["pay_evt_new_1"]]]);
    expect(await loadRawEventsForPayment(other.storage, projectId, "pay_evt_old_1")).toEqual([]);
    expect((await other.storage.get<{ n: number }>("SELECT COUNT(*) AS n FROM provider_event_payments"))!.n).toBe(2);
  });
});

describeOnEngines("exchange rates and re-conversion on the storage", (engine) => {
  test("a manual rate and a stored fixing read back on the other node, and the manual rate queues the project's history", async () => {
    const { node, ctx, otherCtx, other, projectId } = await setup(engine);
    await record(node, projectId, sale("api:t1", 1000, START));
    expect(await changeManualRates(ctx, projectId, { put: { currency: "AED", per: "USD", rate: "0.2723", from: null } })).toBe(1);
    await node.writes.job((tx) => storeFixings(tx, [{ date: "2026-03-13", perEur: { USD: "1.0850", JPY: "161.2" } }]));
    const rates = await listRates(otherCtx, projectId);
    expect(rates.filter((r) => r.source === "manual")).toEqual([{ currency: "AED", per: "USD", rate: 0.2723, source: "manual", from: null }]);
    expect(rates.filter((r) => r.source === "ecb").sort((a, b) => a.per.localeCompare(b.per))).toEqual([
      { currency: "EUR", per: "JPY", rate: 161.2, source: "ecb", from: "2026-03-13" },
      { currency: "EUR", per: "USD", rate: 1.085, source: "ecb", from: "2026-03-13" },
    ]);
    expect(await readJob(other.storage, (tx) => readConversionProgress(tx, projectId))).toEqual({ running: true, done: 0, total: 1 });
    expect(await changeManualRates(otherCtx, projectId, { delete: "AED" })).toBe(1);
    expect(await changeManualRates(otherCtx, projectId, { delete: "AED" })).toBe(0);
    expect((await listRates(ctx, projectId)).filter((r) => r.source === "manual")).toEqual([]);
    // The feed's health: a failure counts, a success clears it.
    await node.writes.job((tx) => recordFeedAttempt(tx, NOW, "the feed answered HTTP 503"));
    await other.writes.job((tx) => recordFeedAttempt(tx, NOW + 60_000, "the feed answered HTTP 503"));
    expect(await readJob(node.storage, feedStatus)).toEqual({ lastAttemptAt: NOW + 60_000, lastSuccessAt: null, lastError: "the feed answered HTTP 503", failures: 2, latestDay: "2026-03-13" });
    await node.writes.job((tx) => recordFeedAttempt(tx, NOW + 120_000, null));
    expect(await readJob(other.storage, feedStatus)).toEqual({ lastAttemptAt: NOW + 120_000, lastSuccessAt: NOW + 120_000, lastError: null, failures: 0, latestDay: "2026-03-13" });
  });

  test("EUR payments waiting for a rate are converted once the fixing arrives, and a corrected fixing converts the history again, rollup included", async () => {
    const { node, other, projectId } = await setup(engine);
    const eur = [1000, 2500, 400].map((amount, i) => sale(`api:e${i}`, amount, START + i * HOUR_MS, { currency: "EUR" }));
    for (const payment of eur) await record(node, projectId, payment);
    const reporting = () => other.storage.all<{ amount: number; reporting_amount: number | null; rate_source: string }>(
      "SELECT amount, reporting_amount, rate_source FROM payments WHERE project_id = ? ORDER BY occurred_at",
      [projectId],
    );
    const rollup = async () =>
      (await other.storage.get<{ revenue: number; unconverted: number }>(
        "SELECT CAST(SUM(reporting_revenue) AS BIGINT) AS revenue, CAST(SUM(unconverted) AS BIGINT) AS unconverted FROM payment_stats_periods WHERE project_id = ? AND model = 'last' AND grain = 'month'",
        [projectId],
      ))!;
    expect((await reporting()).map((r) => r.rate_source)).toEqual(["none", "none", "none"]);
    expect(await rollup()).toEqual({ revenue: 0, unconverted: 3 });
    expect(await readJob(other.storage, (tx) => unconvertedCurrencies(tx, projectId))).toEqual([{ currency: "EUR", payments: 3 }]);

    await node.writes.job((tx) => storeFixings(tx, [{ date: "2026-03-13", perEur: { USD: "1.08" } }]));
    const pending = await other.writes.job((tx) => convertPendingChunk(tx, 0, (changes) => rewriteReporting(tx, changes), 100));
    expect(pending).toEqual({ last: null, rows: 3 });
    // 1000 × 1.08, 2500 × 1.08, 400 × 1.08.
    expect(await reporting()).toEqual([
      { amount: 1000, reporting_amount: 1080, rate_source: "ecb" },
      { amount: 2500, reporting_amount: 2700, rate_source: "ecb" },
      { amount: 400, reporting_amount: 432, rate_source: "ecb" },
    ]);
    expect(await rollup()).toEqual({ revenue: 4212, unconverted: 0 });
    expect(await readJob(node.storage, (tx) => unconvertedCurrencies(tx, projectId))).toEqual([]);

    // The day's fixing corrected, the whole history is queued; chunks run on either node until none is queued.
    await node.writes.job(function* (tx) {
      yield* storeFixings(tx, [{ date: "2026-03-13", perEur: { USD: "1.1" } }]);
      yield* queueReconversion(tx, projectId, NOW);
    });
    expect(await readJob(other.storage, (tx) => readConversionProgress(tx, projectId))).toEqual({ running: true, done: 0, total: 3 });
    const resum = { hours: resumConvertedHours, period: resumConvertedPeriod };
    let chunks = 0;
    for (;;) {
      const queue = chunks % 2 === 0 ? node.writes : other.writes;
      const looked = await queue.job((tx) => convertChunk(tx, (changes) => storeReportings(tx, changes), resum, 2));
      if (looked === null) break;
      chunks++;
      expect(chunks).toBeLessThan(100);
    }
    expect(await reporting()).toEqual([
      { amount: 1000, reporting_amount: 1100, rate_source: "ecb" },
      { amount: 2500, reporting_amount: 2750, rate_source: "ecb" },
      { amount: 400, reporting_amount: 440, rate_source: "ecb" },
    ]);
    // The walk stored the payments alone; the re-sum brought hours, day and month to 1100 + 2750 + 440.
    expect(await rollup()).toEqual({ revenue: 4290, unconverted: 0 });
    const day = await other.storage.get<{ revenue: number }>(
      "SELECT CAST(SUM(reporting_revenue) AS BIGINT) AS revenue FROM payment_stats_periods WHERE project_id = ? AND model = 'first' AND grain = 'day'",
      [projectId],
    );
    expect(day!.revenue).toBe(4290);
    const hours = await other.storage.get<{ revenue: number }>("SELECT CAST(SUM(reporting_revenue) AS BIGINT) AS revenue FROM payment_stats_hourly WHERE project_id = ? AND model = 'last'", [projectId]);
    expect(hours!.revenue).toBe(4290);
    expect(await readJob(node.storage, (tx) => readConversionProgress(tx, projectId))).toEqual({ running: false, done: 0, total: 0 });
  });
});
