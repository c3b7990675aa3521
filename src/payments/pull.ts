// Pulling payment outcomes from the providers' APIs on a schedule: one run per integration at a
// time, errors recorded on the integration (its status shows them), stoppable between pages.
import type { AppContext } from "../context.ts";
import { pullableIntegrations, recordIntegrationError, type IntegrationProvider } from "./integrations.ts";
import { pullStripe } from "./stripe/pull.ts";
import { pullPolar } from "./polar/pull.ts";
import { explainStripeError } from "./stripe/client.ts";
import { explainPolarError } from "./polar/client.ts";
import { pruneRawEvents, RAW_EVENT_PRUNE_BATCH } from "./service.ts";
import { NATIVE_PROVIDERS } from "./native-providers.ts";
import { LEASE_MS, whileHolding } from "../db/leases.ts";

export interface PullOutcome {
  processed: number;
  /** false when stopped before the pass ended (shutdown); the cursor says where to resume. */
  complete: boolean;
  error?: string;
  /** Another node is pulling this integration (it holds the lease). */
  elsewhere?: true;
}

export const PULL_INTERVAL_MS = 5 * 60_000;

export async function runPull(ctx: AppContext, projectId: string, provider: IntegrationProvider, shouldStop: () => boolean = () => false): Promise<PullOutcome> {
  try {
    if (provider === "stripe") return await pullStripe(ctx, projectId, shouldStop);
    if (provider === "polar") return await pullPolar(ctx, projectId, shouldStop);
    return await NATIVE_PROVIDERS[provider].pull(ctx, projectId, shouldStop);
  } catch (error) {
    const explain = provider === "stripe" ? explainStripeError : provider === "polar" ? explainPolarError : NATIVE_PROVIDERS[provider].explainError;
    const message = explain(error).message;
    await ctx.writes.job((tx) => recordIntegrationError(tx, projectId, provider, `pull failed: ${message}`, ctx.now())).catch(() => {});
    return { processed: 0, complete: false, error: message };
  }
}

export interface PaymentScheduler {
  /** Pulls one integration now (after connect); resolves when that run ends. */
  runNow(projectId: string, provider: IntegrationProvider): Promise<PullOutcome>;
  stop(): Promise<void>;
}

const schedulers = new WeakMap<AppContext, PaymentScheduler>();

/** The running instance's scheduler, if the server started one (the connect route kicks it). */
export function paymentScheduler(ctx: AppContext): PaymentScheduler | null {
  return schedulers.get(ctx) ?? null;
}

/** Pulls every connected integration at start (resuming an interrupted backfill) and then every interval. */
export function startPaymentScheduler(ctx: AppContext, intervalMs = PULL_INTERVAL_MS): PaymentScheduler {
  const running = new Map<string, Promise<PullOutcome>>();
  const retries = new Set<Timer>();
  let pruning: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const runNow = (projectId: string, provider: IntegrationProvider): Promise<PullOutcome> => {
    const key = `${projectId}:${provider}`;
    const current = running.get(key);
    if (current) return current;
    if (stopped) return Promise.resolve({ processed: 0, complete: false });
    const run = whileHolding(ctx, `pull:${key}`, (lost) => runPull(ctx, projectId, provider, () => stopped || lost()))
      .then(
        (outcome): PullOutcome => {
          if (outcome !== null) return outcome.value;
          // Another node pulls it: if that node dies mid-backfill, this one resumes once the lease has run out.
          const retry = setTimeout(() => (retries.delete(retry), void runNow(projectId, provider)), LEASE_MS);
          retries.add(retry);
          return { processed: 0, complete: false, elsewhere: true };
        },
        (error: Error): PullOutcome => {
          console.error(`pull ${key} failed: ${error.message}`);
          return { processed: 0, complete: false, error: error.message };
        },
      )
      .finally(() => running.delete(key));
    running.set(key, run);
    return run;
  };
  const tick = () => {
    pullableIntegrations(ctx.storage).then(
      (pullable) => {
        if (!stopped) for (const { projectId, provider } of pullable) void runNow(projectId, provider);
      },
      (error: Error) => console.error(`listing the integrations to pull failed: ${error.message}`),
    );
    pruning = whileHolding(ctx, "prune-raw-events", () => pruneAllRawEvents(ctx)).catch((error: Error) => console.error(`pruning raw events failed: ${error.message}`));
  };
  const first = setTimeout(tick, 0);
  const timer = setInterval(tick, intervalMs);
  const scheduler: PaymentScheduler = {
    runNow,
    async stop() {
      stopped = true;
      clearTimeout(first);
      clearInterval(timer);
      for (const retry of retries) clearTimeout(retry);
      await Promise.allSettled([...running.values(), pruning]);
      schedulers.delete(ctx);
    },
  };
  schedulers.set(ctx, scheduler);
  return scheduler;
}

/** Deletes the raw events past retention a batch per write, so requests' writes go between batches. */
export async function pruneAllRawEvents(ctx: AppContext): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await ctx.writes.job((tx) => pruneRawEvents(tx, ctx.now()));
    total += deleted;
    if (deleted < RAW_EVENT_PRUNE_BATCH) return total;
  }
}
