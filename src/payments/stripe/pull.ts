// Pulls Stripe events (events.list, newest first) into the ledger. The cursor is saved with each
// page's payments in one transaction, so a restart continues with the next page.
import type { AppContext } from "../../context.ts";
import { applyProviderEvent } from "../ledger.ts";
import { integrationSecret, pullState, savePullProgress } from "../integrations.ts";
import type { PullOutcome } from "../pull.ts";
import { stripeClient } from "./client.ts";
import { STRIPE_EVENT_TYPES, stripeEventToOps, type StripeEventLike } from "./adapter.ts";
import { withStripeSettlements } from "./settlement.ts";

export interface StripeCursor {
  /** Next pass lists events created after this (unix seconds). */
  createdGt: number;
  /** The pass under way: its window, where it started, and the last event id done (older pages follow). */
  pass: { windowGt: number; startedAt: number; startingAfter: string | null } | null;
}

const OVERLAP_SECONDS = 60;

export async function pullStripe(ctx: AppContext, projectId: string, shouldStop: () => boolean): Promise<PullOutcome> {
  const state = await pullState<StripeCursor>(ctx.storage, projectId, "stripe");
  const apiKey = await integrationSecret(ctx, projectId, "stripe", "credential");
  if (!state || !apiKey) return { processed: 0, complete: true };
  const stripe = stripeClient(ctx, apiKey);
  const nowSeconds = Math.floor(ctx.now() / 1000);
  const createdGt = state.cursor?.createdGt ?? Math.floor((state.backfillFrom ?? ctx.now() - 30 * 86_400_000) / 1000);
  const pass = state.cursor?.pass ?? { windowGt: createdGt, startedAt: nowSeconds, startingAfter: null };
  let processed = 0;
  while (!shouldStop()) {
    const page = await stripe.events.list({
      created: { gt: pass.windowGt },
      types: [...STRIPE_EVENT_TYPES],
      limit: 100,
      ...(pass.startingAfter ? { starting_after: pass.startingAfter } : {}),
    });
    const events = page.data as unknown as StripeEventLike[];
    const oldest = events.at(-1);
    const complete = !page.has_more || !oldest;
    const nextPass = complete ? null : { ...pass, startingAfter: oldest.id };
    const cursor: StripeCursor = complete ? { createdGt: pass.startedAt - OVERLAP_SECONDS, pass: null } : { createdGt, pass: nextPass };
    const fraction = oldest && pass.startedAt > pass.windowGt ? (pass.startedAt - oldest.created) / (pass.startedAt - pass.windowGt) : null;
    // Each page oldest first, so a sale is on the ledger before its refund.
    const adapted = await Promise.all(
      [...events].reverse().map(async (event) => {
        const result = stripeEventToOps(event);
        return { event, ops: "ops" in result ? await withStripeSettlements(ctx, projectId, result.ops) : [] };
      }),
    );
    await ctx.writes.job(function* (tx) {
      for (const { event, ops } of adapted) {
        if (ops.length === 0) continue;
        yield* applyProviderEvent(tx, projectId, { provider: "stripe", eventId: event.id, type: event.type, via: "pull", payload: JSON.stringify(event) }, ops, ctx.now());
      }
      yield* savePullProgress(tx, projectId, "stripe", { cursor, processed: events.length, fraction, passComplete: complete }, ctx.now());
    });
    processed += events.length;
    if (complete) return { processed, complete: true };
    pass.startingAfter = oldest.id;
  }
  return { processed, complete: false };
}
