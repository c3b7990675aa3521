// One pull pass for the providers read with plain fetch: pages of items since the last pass (the
// first pass: the 30-day backfill), each page recorded with its progress in one transaction.
import type { AppContext } from "../context.ts";
import { applyProviderEvent } from "./ledger.ts";
import { BACKFILL_DAYS, integrationSecret, pullState, savePullProgress, type IntegrationProvider } from "./integrations.ts";
import type { PullOutcome } from "./pull.ts";
import type { AdapterResult } from "./types.ts";

/** One pulled object: its state-specific id keeps the raw payload and the event-level dedupe. */
export interface PulledItem {
  eventId: string;
  type: string;
  payload: unknown;
  result: AdapterResult;
}

export interface PulledPage {
  items: PulledItem[];
  /** How far through the pass, 0..1, when the provider says. */
  fraction: number | null;
}

interface PassCursor {
  /** Unix ms: the next pass reads what was created since. */
  since: number;
}

const OVERLAP_MS = 60_000;

export async function pullPass(
  ctx: AppContext,
  projectId: string,
  provider: IntegrationProvider,
  shouldStop: () => boolean,
  read: (credential: string, since: number) => AsyncIterable<PulledPage>,
): Promise<PullOutcome> {
  const state = await pullState<PassCursor>(ctx.storage, projectId, provider);
  const credential = await integrationSecret(ctx, projectId, provider, "credential");
  if (!state || !credential) return { processed: 0, complete: true };
  const since = state.cursor?.since ?? state.backfillFrom ?? ctx.now() - BACKFILL_DAYS * 86_400_000;
  const startedAt = ctx.now();
  let processed = 0;
  for await (const page of read(credential, since)) {
    await ctx.writes.job(function* (tx) {
      for (const item of page.items) {
        if (!("ops" in item.result) || item.result.ops.length === 0) continue;
        yield* applyProviderEvent(tx, projectId, { provider, eventId: item.eventId, type: item.type, via: "pull", payload: JSON.stringify(item.payload) }, item.result.ops, ctx.now());
      }
      yield* savePullProgress(tx, projectId, provider, { cursor: { since }, processed: page.items.length, fraction: page.fraction, passComplete: false }, ctx.now());
    });
    processed += page.items.length;
    if (shouldStop()) return { processed, complete: false };
  }
  await ctx.writes.job((tx) =>
    savePullProgress(tx, projectId, provider, { cursor: { since: startedAt - OVERLAP_MS }, processed: 0, fraction: 1, passComplete: true }, ctx.now()),
  );
  return { processed, complete: true };
}
