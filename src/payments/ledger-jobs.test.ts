// The payments ledger as write jobs, on both engines: what a webhook or a pull records, run through each
// engine's group commit, and the same delivery applied by two nodes at once counted once.
import { afterEach, expect, test } from "bun:test";
import type { JobQueue } from "../db/storage/jobs.ts";
import type { Engine, Storage } from "../db/storage/storage.ts";
import { createProject } from "../projects/service.ts";
import { describeOnEngines, twoNodeDatabases, type TestDatabase } from "../testing/engines.ts";
import { storeHit, type Hit } from "../tracking/journey.ts";
import { recordEventReceived, recordSignatureFailure, savePullProgress } from "./integrations.ts";
import { applyProviderEvent } from "./ledger.ts";
import { storeFixings } from "./fx/rates.ts";
import { emptyPayment, type IncomingPayment, type LedgerOp, type ProviderEvent } from "./types.ts";

const HOUR_MS = 3_600_000;
const START = Date.UTC(2026, 2, 14, 9, 30);
const NOW = START + HOUR_MS;

const open: TestDatabase[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((db) => db.close()));
});

async function setup(engine: Engine) {
  const [node, other] = await twoNodeDatabases(engine, open);
  const project = await createProject(node.storage, { name: "Ledger" }, START);
  return { node, other, projectId: project.id };
}

let events = 0;
function stripeEvent(eventId = `evt_${++events}`): ProviderEvent {
  return { provider: "stripe", eventId, type: "checkout.session.completed", via: "webhook", payload: "{}" };
}

function payment(kind: IncomingPayment["kind"], key: string, amount: number, more: Partial<IncomingPayment> = {}): LedgerOp {
  return { op: "payment", payment: { ...emptyPayment("stripe"), kind, key, amount, tax: 0, currency: "USD", occurredAt: START, ...more } };
}

function apply(queue: JobQueue, projectId: string, event: ProviderEvent, ops: LedgerOp[], now = NOW) {
  return queue.job((tx) => applyProviderEvent(tx, projectId, event, ops, now));
}

function visit(projectId: string, visitorId: string, ts: number, more: Partial<Hit> = {}): Hit {
  return {
    projectId,
    ts,
    name: "page_view",
    path: "/",
    props: null,
    visitorIds: [visitorId],
    sessionHint: null,
    landing: { clickId: null, utm: { source: "newsletter", medium: "email", campaign: "spring", content: null }, referrerHost: null },
    agent: { browser: "Firefox", os: "Linux", device: "desktop" },
    country: null,
    isPricingPage: false,
    identify: null,
    ...more,
  };
}

const count = async (storage: Storage, sql: string, params: string[] = []) => (await storage.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${sql}`, params))!.n;

/** The last-touch rollup's day rows, summed per link and currency. */
function rollupTotals(storage: Storage, projectId: string) {
  return storage.all(
    `SELECT link_id, currency, CAST(SUM(payments) AS BIGINT) AS payments, CAST(SUM(revenue) AS BIGINT) AS revenue, CAST(SUM(refunds) AS BIGINT) AS refunds,
       CAST(SUM(unconverted) AS BIGINT) AS unconverted
     FROM payment_stats_periods WHERE project_id = ? AND model = 'last' AND grain = 'day' GROUP BY link_id, currency ORDER BY link_id, currency`,
    [projectId],
  );
}

/** The same sums counted from the payments themselves, as the rollup adds them up. */
function ledgerTotals(storage: Storage, projectId: string) {
  return storage.all(
    `SELECT COALESCE(link_id, '') AS link_id, currency,
       CAST(SUM(CASE WHEN kind IN ('sale', 'renewal') THEN 1 ELSE 0 END) AS BIGINT) AS payments,
       CAST(SUM(CASE WHEN kind IN ('sale', 'renewal') THEN net ELSE 0 END) AS BIGINT) AS revenue,
       CAST(SUM(CASE WHEN kind IN ('refund', 'dispute') THEN -net ELSE 0 END) AS BIGINT) AS refunds,
       CAST(SUM(CASE WHEN rate_source = 'none' THEN 1 ELSE 0 END) AS BIGINT) AS unconverted
     FROM payments WHERE project_id = ? GROUP BY COALESCE(link_id, ''), currency ORDER BY 1, 2`,
    [projectId],
  );
}

describeOnEngines("the payments ledger as write jobs", (engine) => {
  test("a sale is stored with its money, attributed to the visit its checkout names, and appears in that visitor's journey", async () => {
    const { node, projectId } = await setup(engine);
    await node.writes.job((tx) => storeHit(tx, visit(projectId, "v1", START - 20 * 60_000)));
    const event = stripeEvent();
    const applied = await apply(node.writes, projectId, event, [payment("sale", "cs_1", 4900, { tax: 400, metadata: { visitorId: "v1" }, email: "ada@example.com" })]);
    expect(applied.duplicate).toBe(false);
    const [id] = applied.paymentIds;

    const stored = await node.storage.get<Record<string, unknown>>(
      `SELECT kind, amount, tax, net, currency, customer_email, method, source, medium, campaign_id, visitor_id, reporting_net, rate_source, journey_event_id
       FROM payments WHERE id = ?`,
      [id!],
    );
    expect(stored).toMatchObject({
      kind: "sale",
      amount: 4900,
      tax: 400,
      net: 4500,
      currency: "USD",
      customer_email: "ada@example.com",
      method: "session",
      source: "newsletter",
      medium: "email",
      campaign_id: "spring",
      visitor_id: "v1",
      reporting_net: 4500,
      rate_source: "same",
    });
    const journey = await node.storage.get<{ id: number; name: string; props: string }>("SELECT id, name, props FROM events WHERE visitor_id = 'v1' AND name = 'payment_completed'");
    expect(journey!.id).toBe(stored!.journey_event_id as number);
    expect(JSON.parse(journey!.props)).toMatchObject({ paymentId: id, amount: 4900, net: 4500, currency: "USD", method: "session" });

    expect(await node.storage.get("SELECT outcome, payment_ids FROM provider_events WHERE event_id = ?", [event.eventId])).toEqual({
      outcome: `recorded sale ${id}`,
      payment_ids: JSON.stringify([id]),
    });
    expect(await count(node.storage, "provider_event_payments WHERE payment_id = ?", [id!])).toBe(1);
    expect(await rollupTotals(node.storage, projectId)).toEqual([{ link_id: "", currency: "USD", payments: 1, revenue: 4500, refunds: 0, unconverted: 0 }]);
  });

  test("refunds reported as running totals reduce the sale's net revenue by each step, and a replayed event changes nothing", async () => {
    const { node, projectId } = await setup(engine);
    await apply(node.writes, projectId, stripeEvent(), [payment("sale", "cs_2", 4900, { chargeId: "ch_2" })]);
    const refund = (total: number) => payment("refund", "ignored", 0, { parent: { chargeId: "ch_2" }, cumulativeRefund: { scope: "ch_2", total, totalTax: 0 } });
    const firstRefund = stripeEvent();
    await apply(node.writes, projectId, firstRefund, [refund(1500)]);
    await apply(node.writes, projectId, stripeEvent(), [refund(4000)]);
    // 4900 sold; refunds of 1500 and then 2500 more (the total reached 4000): 900 left.
    expect(await rollupTotals(node.storage, projectId)).toEqual([{ link_id: "", currency: "USD", payments: 1, revenue: 4900, refunds: 4000, unconverted: 0 }]);
    expect(await node.storage.all("SELECT amount, net FROM payments WHERE kind = 'refund' ORDER BY amount DESC")).toEqual([
      { amount: -1500, net: -1500 },
      { amount: -2500, net: -2500 },
    ]);

    const replay = await apply(node.writes, projectId, firstRefund, [refund(1500)]);
    expect(replay).toMatchObject({ duplicate: true, paymentIds: [] });
    expect(await count(node.storage, "payments")).toBe(3);
    expect(await count(node.storage, "provider_events")).toBe(3);
    expect(await rollupTotals(node.storage, projectId)).toEqual([{ link_id: "", currency: "USD", payments: 1, revenue: 4900, refunds: 4000, unconverted: 0 }]);
  });

  test("a payment that arrived before its customer identified is traced to the customer's visit once they identify", async () => {
    const { node, projectId } = await setup(engine);
    const applied = await apply(node.writes, projectId, stripeEvent(), [payment("sale", "cs_3", 2900, { email: "bo@example.com" })]);
    expect(await node.storage.get("SELECT method FROM payments WHERE id = ?", [applied.paymentIds[0]!])).toEqual({ method: "unattributed" });
    const identify = { id: "user_bo", email: "Bo@Example.com", trust: "trusted" as const };
    await node.writes.job((tx) => storeHit(tx, visit(projectId, "v2", START - HOUR_MS, { identify })));
    expect(await node.storage.get("SELECT method, source, profile_id FROM payments WHERE id = ?", [applied.paymentIds[0]!])).toEqual({
      method: "identify_email",
      source: "newsletter",
      profile_id: "user_bo",
    });
    expect(await rollupTotals(node.storage, projectId)).toEqual([{ link_id: "", currency: "USD", payments: 1, revenue: 2900, refunds: 0, unconverted: 0 }]);
  });

  test("a subscription's checkout metadata reaches its first invoice, each payment pays a period, a cancellation ends it, and a EUR sale converts at the ECB fixing", async () => {
    const { node, projectId } = await setup(engine);
    expect(await node.writes.job((tx) => storeFixings(tx, [{ date: "2026-03-13", perEur: { USD: "1.0850" } }]))).toEqual(["2026-03-13"]);
    const checkout: LedgerOp = { op: "checkout_context", provider: "stripe", subscriptionId: "sub_1", sessionId: "cs_sub", metadata: { source: "podcast" }, email: "cy@example.com" };
    await apply(node.writes, projectId, stripeEvent(), [checkout]);
    const monthly = { interval: "month" as const, intervalCount: 1 };
    const invoice = (key: string, occurredAt: number) => payment("sale", key, 2900, { subscriptionId: "sub_1", kindFromSubscription: true, subscription: monthly, occurredAt });
    const APRIL = Date.UTC(2026, 3, 14, 9, 30);
    const [first] = (await apply(node.writes, projectId, stripeEvent(), [invoice("in_1", START)])).paymentIds;
    const [renewal] = (await apply(node.writes, projectId, stripeEvent(), [invoice("in_2", APRIL)], APRIL)).paymentIds;
    await apply(node.writes, projectId, stripeEvent(), [{ op: "subscription_cancel", provider: "stripe", subscriptionId: "sub_1", at: Date.UTC(2026, 4, 14, 9, 30) }], APRIL);

    expect(await node.storage.all("SELECT id, kind, method, source, customer_email, checkout_session_id, parent_payment_id FROM payments ORDER BY occurred_at")).toEqual([
      { id: first, kind: "sale", method: "metadata_context", source: "podcast", customer_email: "cy@example.com", checkout_session_id: "cs_sub", parent_payment_id: null },
      { id: renewal, kind: "renewal", method: "customer", source: "podcast", customer_email: null, checkout_session_id: null, parent_payment_id: first },
    ]);
    expect(await node.storage.all("SELECT period_start, period_end, payment_id, reporting_net FROM subscription_periods ORDER BY period_start")).toEqual([
      { period_start: START, period_end: APRIL, payment_id: first, reporting_net: 2900 },
      { period_start: APRIL, period_end: Date.UTC(2026, 4, 14, 9, 30), payment_id: renewal, reporting_net: 2900 },
    ]);
    expect(await node.storage.get("SELECT first_payment_id, cancelled_at FROM subscriptions WHERE id = 'sub_1'")).toEqual({ first_payment_id: first, cancelled_at: Date.UTC(2026, 4, 14, 9, 30) });

    // Saturday the 14th takes Friday's fixing: 100.00 EUR at 1.0850 USD is 108.50 USD.
    const [euros] = (await apply(node.writes, projectId, stripeEvent(), [payment("sale", "cs_eur", 10_000, { currency: "EUR" })])).paymentIds;
    expect(await node.storage.get("SELECT reporting_currency, reporting_net, rate_source, rate_date FROM payments WHERE id = ?", [euros!])).toEqual({
      reporting_currency: "USD",
      reporting_net: 10_850,
      rate_source: "ecb",
      rate_date: "2026-03-13",
    });
  });

  test("a pulled page is saved with its progress in one job, and the integration counts deliveries and refused signatures", async () => {
    const { node, projectId } = await setup(engine);
    await node.storage.run(
      "INSERT INTO integrations (project_id, provider, status, connected_at, updated_at, backfill_state, backfill_from) VALUES (?, 'stripe', 'connected', ?, ?, 'running', ?)",
      [projectId, START, START, START - 30 * 24 * HOUR_MS],
    );
    const pulled = { ...stripeEvent(), via: "pull" as const };
    const page = (passComplete: boolean) =>
      node.writes.job(function* (tx) {
        yield* applyProviderEvent(tx, projectId, pulled, [payment("sale", "in_pulled", 1200)], NOW);
        yield* savePullProgress(tx, projectId, "stripe", { cursor: { page: passComplete ? 2 : 1 }, processed: 100, fraction: passComplete ? null : 0.5, passComplete }, NOW);
      });
    const progress = () => node.storage.get("SELECT cursor, last_pull_at, backfill_state, backfill_processed, backfill_progress, backfill_done_at FROM integrations WHERE project_id = ?", [projectId]);
    await page(false);
    expect(await progress()).toEqual({ cursor: '{"page":1}', last_pull_at: NOW, backfill_state: "running", backfill_processed: 100, backfill_progress: 0.5, backfill_done_at: null });
    await page(true);
    expect(await progress()).toEqual({ cursor: '{"page":2}', last_pull_at: NOW, backfill_state: "done", backfill_processed: 200, backfill_progress: 1, backfill_done_at: NOW });
    expect(await count(node.storage, "payments")).toBe(1);

    await node.writes.job((tx) => recordEventReceived(tx, projectId, "stripe", NOW + 1));
    await node.writes.job((tx) => recordSignatureFailure(tx, projectId, "stripe", "stale_timestamp", NOW + 2));
    expect(await node.storage.get("SELECT last_event_at, signature_failures, last_signature_failure FROM integrations WHERE project_id = ?", [projectId])).toEqual({
      last_event_at: NOW + 1,
      signature_failures: 1,
      last_signature_failure: "stale_timestamp",
    });
  });

  test("the same event delivered to two nodes at once is recorded once, and both deliveries are answered", async () => {
    const { node, other, projectId } = await setup(engine);
    for (let round = 0; round < 10; round++) {
      const event = stripeEvent();
      const ops = [payment("sale", `cs_twice_${round}`, 1000 + round)];
      const answers = await Promise.all([apply(node.writes, projectId, event, ops), apply(other.writes, projectId, event, ops)]);
      expect(answers.map((answer) => answer.duplicate).sort()).toEqual([false, true]);
      expect(await count(node.storage, "payments WHERE payment_key = ?", [`cs_twice_${round}`])).toBe(1);
      expect(await count(node.storage, "provider_events WHERE event_id = ?", [event.eventId])).toBe(1);
    }
    // 1000 + 1001 + … + 1009, each once.
    expect(await rollupTotals(node.storage, projectId)).toEqual([{ link_id: "", currency: "USD", payments: 10, revenue: 10_045, refunds: 0, unconverted: 0 }]);
  });

  test("one payment brought at once by a webhook on one node and a pull on another is one payment", async () => {
    const { node, other, projectId } = await setup(engine);
    for (let round = 0; round < 10; round++) {
      const key = `in_both_${round}`;
      const ops = [payment("sale", key, 2000)];
      const answers = await Promise.all([
        apply(node.writes, projectId, stripeEvent(), ops),
        apply(other.writes, projectId, { ...stripeEvent(), via: "pull" }, ops),
      ]);
      expect(answers.map((answer) => answer.duplicate).sort()).toEqual([false, true]);
      expect(answers[0]!.paymentIds).toEqual(answers[1]!.paymentIds);
      expect(await count(node.storage, "payments WHERE payment_key = ?", [key])).toBe(1);
      expect(await count(node.storage, "provider_event_payments WHERE payment_id = ?", [answers[0]!.paymentIds[0]!])).toBe(2);
    }
    expect(await rollupTotals(node.storage, projectId)).toEqual([{ link_id: "", currency: "USD", payments: 10, revenue: 20_000, refunds: 0, unconverted: 0 }]);
  });

  test("after sales, refunds and disputes in two currencies from two nodes, the rollup equals a sum over the payments", async () => {
    const { node, other, projectId } = await setup(engine);
    await node.storage.run("INSERT INTO links (id, project_id, slug, destination_url, created_at, updated_at) VALUES ('lnk_a', ?, 'a', 'https://site.example/', ?, ?)", [
      projectId,
      START,
      START,
    ]);
    const jobs: Promise<unknown>[] = [];
    for (let i = 0; i < 40; i++) {
      const queue = i % 2 === 0 ? node.writes : other.writes;
      const currency = i % 3 === 0 ? "EUR" : "USD";
      const metadata: Record<string, string> = i % 4 === 0 ? { linkId: "lnk_a" } : {};
      const occurredAt = START + (i % 30) * HOUR_MS;
      const ops = [payment("sale", `cs_mix_${i}`, 1000 + 10 * i, { currency, metadata, chargeId: `ch_mix_${i}`, occurredAt })];
      if (i % 5 === 0) ops.push(payment("refund", "ignored", 0, { currency, parent: { chargeId: `ch_mix_${i}` }, cumulativeRefund: { scope: `ch_mix_${i}`, total: 300, totalTax: 0 }, occurredAt }));
      if (i % 7 === 0) ops.push(payment("dispute", `dp_mix_${i}`, -(1000 + 10 * i), { currency, parent: { chargeId: `ch_mix_${i}` }, occurredAt }));
      jobs.push(apply(queue, projectId, stripeEvent(), ops));
    }
    await Promise.all(jobs);
    const totals = await rollupTotals(node.storage, projectId);
    expect(totals).toEqual(await ledgerTotals(node.storage, projectId));
    // By hand: EUR is i = 0, 3, …, 39 (none converted: no ECB fixing is stored), the link i = 0, 4, …, 36. Refunds of 300 (i = 0, 5, …, 35)
    // and whole disputes (i = 0, 7, …, 35) follow their sale's link; each EUR payment, refunds and disputes too, counts as unconverted.
    expect(totals).toEqual([
      { link_id: "", currency: "EUR", payments: 10, revenue: 10 * 1000 + 10 * (3 + 6 + 9 + 15 + 18 + 21 + 27 + 30 + 33 + 39), refunds: 300 * 2 + 1000 + 10 * 21, unconverted: 10 + 2 + 1 },
      { link_id: "", currency: "USD", payments: 20, revenue: 20 * 1000 + 10 * (1 + 2 + 5 + 7 + 10 + 11 + 13 + 14 + 17 + 19 + 22 + 23 + 25 + 26 + 29 + 31 + 34 + 35 + 37 + 38), refunds: 300 * 4 + 3 * 1000 + 10 * (7 + 14 + 35), unconverted: 0 },
      { link_id: "lnk_a", currency: "EUR", payments: 4, revenue: 4 * 1000 + 10 * (0 + 12 + 24 + 36), refunds: 300 * 1 + 1000, unconverted: 4 + 1 + 1 },
      { link_id: "lnk_a", currency: "USD", payments: 6, revenue: 6 * 1000 + 10 * (4 + 8 + 16 + 20 + 28 + 32), refunds: 300 * 1 + 1000 + 10 * 28, unconverted: 0 },
    ]);
  });
});
