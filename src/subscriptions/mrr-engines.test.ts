// MRR on both engines: subscription payments written through the ledger's jobs, read back by the MRR
// computation (prime, then compute on PostgreSQL), numbers worked out by hand; a write read again at
// once on its node, and another node's within OTHER_NODES_MS.
import { afterEach, expect, test } from "bun:test";
import type { JobQueue } from "../db/storage/jobs.ts";
import type { Engine } from "../db/storage/storage.ts";
import { createProject } from "../projects/service.ts";
import { describeOnEngines, twoNodeDatabases, type TestDatabase } from "../testing/engines.ts";
import { applyProviderEvent } from "../payments/ledger.ts";
import { emptyPayment, type IncomingPayment, type LedgerOp, type ProviderEvent, type SubscriptionTerms } from "../payments/types.ts";
import { OTHER_NODES_MS } from "../reports/source.ts";
import type { GroupBy } from "../reports/attribution.ts";
import { monthSpans, mrrMovements, subscriptionsOn } from "./mrr.ts";

const at = (month: number, day: number) => Date.UTC(2026, month - 1, day, 9, 0);
const NOW = Date.UTC(2026, 2, 20, 12, 0);
const MONTHLY: SubscriptionTerms = { interval: "month", intervalCount: 1 };
const YEARLY: SubscriptionTerms = { interval: "year", intervalCount: 1 };

const open: TestDatabase[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((db) => db.close()));
});

let events = 0;
const event = (): ProviderEvent => ({ provider: "stripe", eventId: `evt_${++events}`, type: "invoice.paid", via: "webhook", payload: "{}" });

function apply(queue: JobQueue, projectId: string, ops: LedgerOp[]) {
  return queue.job((tx) => applyProviderEvent(tx, projectId, event(), ops, NOW));
}

/** A subscription's invoice: the first of a subscription is its sale, later ones renewals. */
function invoice(subscriptionId: string, key: string, amount: number, occurredAt: number, terms: SubscriptionTerms): LedgerOp {
  const payment: IncomingPayment = { ...emptyPayment("stripe"), kind: "sale", key, amount, tax: 0, currency: "USD", occurredAt, subscriptionId, kindFromSubscription: true, subscription: terms };
  return { op: "payment", payment };
}

const checkout = (subscriptionId: string, source: string): LedgerOp => ({ op: "checkout_context", provider: "stripe", subscriptionId, sessionId: `cs_${subscriptionId}`, metadata: { source }, email: null });

async function mrr(node: TestDatabase, projectId: string, groupBy: GroupBy | null, now = NOW) {
  const subs = await subscriptionsOn(node.reports, projectId, groupBy, now);
  return mrrMovements(subs, monthSpans(Date.UTC(2026, 0, 1), now, "UTC"), now, "USD").map(({ currency, ...row }) => (expect(currency).toBe("USD"), row));
}

async function setup(engine: Engine) {
  const [node, other] = await twoNodeDatabases(engine, open);
  const project = await createProject(node.storage, { name: "MRR" }, at(1, 1));
  // sub_a: $29 a month from 10 January, renewed on 10 February, not after (lapsed on 10 March, past the grace).
  await apply(node.writes, project.id, [checkout("sub_a", "podcast")]);
  await apply(node.writes, project.id, [invoice("sub_a", "in_a1", 2900, at(1, 10), MONTHLY)]);
  await apply(node.writes, project.id, [invoice("sub_a", "in_a2", 2900, at(2, 10), MONTHLY)]);
  // sub_b: $120 a year from 1 February, $10.00 a month.
  await apply(node.writes, project.id, [checkout("sub_b", "newsletter")]);
  await apply(node.writes, project.id, [invoice("sub_b", "in_b1", 12_000, at(2, 1), YEARLY)]);
  // sub_c: $50 a month from 5 January, cancelled on 20 January.
  await apply(node.writes, project.id, [invoice("sub_c", "in_c1", 5000, at(1, 5), MONTHLY)]);
  await apply(node.writes, project.id, [{ op: "subscription_cancel", provider: "stripe", subscriptionId: "sub_c", at: at(1, 20) }]);
  return { node, other, projectId: project.id };
}

const zero = { new: 0, expansion: 0, contraction: 0, churned: 0 };

describeOnEngines("MRR from the ledger's subscription payments", (engine) => {
  test("per month: new, churned, lapsed and yearly MRR as worked out by hand", async () => {
    const { node, projectId } = await setup(engine);
    expect(await mrr(node, projectId, null)).toEqual([
      // January: a ($29) and c ($50) new, c cancelled within it.
      { ...zero, month: "2026-01", key: null, mrr: 2900, new: 7900, churned: 5000, activeSubscriptions: 1 },
      // February: b's $120 a year is $10.00 a month; a's renewal changes nothing.
      { ...zero, month: "2026-02", key: null, mrr: 3900, new: 1000, activeSubscriptions: 2 },
      // March: a lapsed on 10 March (its grace ended on the 13th, before now).
      { ...zero, month: "2026-03", key: null, mrr: 1000, churned: 2900, activeSubscriptions: 1 },
    ]);
  });

  test("per source of each subscription's first sale, in the subscriptions' order on both engines", async () => {
    const { node, projectId } = await setup(engine);
    const rows = await mrr(node, projectId, "source");
    expect(rows.filter((r) => r.month === "2026-03")).toEqual([
      { ...zero, month: "2026-03", key: "podcast", mrr: 0, churned: 2900, activeSubscriptions: 0 },
      { ...zero, month: "2026-03", key: "newsletter", mrr: 1000, activeSubscriptions: 1 },
      { ...zero, month: "2026-03", key: null, mrr: 0, activeSubscriptions: 0 },
    ]);
    expect(rows.filter((r) => r.month === "2026-01").map((r) => [r.key, r.new, r.churned])).toEqual([
      ["podcast", 2900, 0],
      ["newsletter", 0, 0],
      [null, 5000, 5000],
    ]);
  });

  test("a payment written on this node shows at once; one from another node within OTHER_NODES_MS", async () => {
    const { node, other, projectId } = await setup(engine);
    const march = async (now = NOW) => (await mrr(node, projectId, null, now)).at(-1)!;
    expect((await march()).mrr).toBe(1000);
    // sub_a renewed late on 12 March, within the grace: no churn in March, $29 again.
    await apply(node.writes, projectId, [invoice("sub_a", "in_a3", 2900, at(3, 12), MONTHLY)]);
    expect(await march()).toMatchObject({ mrr: 3900, churned: 0, activeSubscriptions: 2 });
    // sub_d through the other node (itself on SQLite): $20 a month from 15 March.
    await apply(other.writes, projectId, [invoice("sub_d", "in_d1", 2000, at(3, 15), MONTHLY)]);
    // PostgreSQL: this node has not heard of it (no notes listener here), and its reading is not OTHER_NODES_MS old yet.
    if (engine === "postgres") expect((await march()).mrr).toBe(3900);
    expect(await march(NOW + OTHER_NODES_MS)).toMatchObject({ mrr: 5900, new: 2000, activeSubscriptions: 3 });
  });
});
