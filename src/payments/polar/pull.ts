// Pulls Polar orders (orders.list, page-based, oldest first) into the ledger, and re-reads recently
// refunded orders so refunds of older orders are seen too. The page is saved with its payments.
import type { JobSteps, JobTx } from "../../db/storage/jobs.ts";
import type { AppContext } from "../../context.ts";
import { applyProviderEvent } from "../ledger.ts";
import { integrationSecret, pullState, savePullProgress } from "../integrations.ts";
import type { PullOutcome } from "../pull.ts";
import { polarClient } from "./client.ts";
import { polarOrderToOps, type PolarOrderLike } from "./adapter.ts";

export interface PolarCursor {
  createdAfter: string;
  /** The next page to read in the pass under way. */
  page: number;
  /** When the pass began: the next pass starts a little before it. */
  startedAt: string;
}

const OVERLAP_MS = 60_000;
const PAGE_SIZE = 100;
const REFUND_PAGES = 10;

function* recordOrders(tx: JobTx, ctx: AppContext, projectId: string, orders: PolarOrderLike[]): JobSteps<void> {
  for (const order of orders) {
    const result = polarOrderToOps(order);
    if (!("ops" in result)) continue;
    // Pulled orders have no event id: one per order state keeps the raw payload and the event-level dedupe.
    const eventId = `order:${order.id}:${order.status}:${order.refunded_amount}`;
    yield* applyProviderEvent(tx, projectId, { provider: "polar", eventId, type: `order (pulled, ${order.status})`, via: "pull", payload: JSON.stringify(order) }, result.ops, ctx.now());
  }
}

export async function pullPolar(ctx: AppContext, projectId: string, shouldStop: () => boolean): Promise<PullOutcome> {
  const state = await pullState<PolarCursor>(ctx.storage, projectId, "polar");
  const accessToken = await integrationSecret(ctx, projectId, "polar", "credential");
  if (!state || !accessToken) return { processed: 0, complete: true };
  const polar = polarClient(ctx, accessToken);
  const backfillFrom = new Date(state.backfillFrom ?? ctx.now() - 30 * 86_400_000).toISOString();
  const cursor: PolarCursor = state.cursor ?? { createdAfter: backfillFrom, page: 1, startedAt: new Date(ctx.now()).toISOString() };
  let processed = 0;
  while (!shouldStop()) {
    const list = await polar.orders.list({ created_after: cursor.createdAfter, page: cursor.page, limit: PAGE_SIZE, sorting: ["created_at"] });
    const orders = list.items as unknown as PolarOrderLike[];
    const complete = cursor.page >= list.pagination.max_page || orders.length === 0;
    const next: PolarCursor = complete
      ? { createdAfter: new Date(Date.parse(cursor.startedAt) - OVERLAP_MS).toISOString(), page: 1, startedAt: new Date(ctx.now()).toISOString() }
      : { ...cursor, page: cursor.page + 1 };
    const fraction = list.pagination.max_page > 0 ? Math.min(1, cursor.page / list.pagination.max_page) : 1;
    await ctx.writes.job(function* (tx) {
      yield* recordOrders(tx, ctx, projectId, orders);
      yield* savePullProgress(tx, projectId, "polar", { cursor: next, processed: orders.length, fraction, passComplete: complete }, ctx.now());
    });
    processed += orders.length;
    Object.assign(cursor, next);
    if (complete) break;
  }
  if (shouldStop()) return { processed, complete: false };
  // Refunds change old orders without creating new ones.
  const refundWindow = new Date(ctx.now() - 30 * 86_400_000).toISOString();
  for (let page = 1; page <= REFUND_PAGES && !shouldStop(); page++) {
    const list = await polar.orders.list({ status: ["refunded", "partially_refunded"], created_after: refundWindow, page, limit: PAGE_SIZE });
    const orders = list.items as unknown as PolarOrderLike[];
    await ctx.writes.job((tx) => recordOrders(tx, ctx, projectId, orders));
    processed += orders.length;
    if (page >= list.pagination.max_page) break;
  }
  return { processed, complete: true };
}
