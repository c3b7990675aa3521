// Fetches the ECB reference rates from BANTICO_FX_URL: on start when the last working day's rates
// are missing, then once a day after 16:00 CET; a failure is retried with backoff and shown in
// settings. Runs beside requests, never in them; sends nothing but a GET for the document.
import type { AppContext } from "../../context.ts";
import { lastPublishedWorkingDay, parseEcbXml } from "./ecb.ts";
import { latestFixingDay, recordFeedAttempt, storeFixings } from "./rates.ts";
import { whileHolding } from "../../db/leases.ts";
import { readJob } from "../../db/storage/jobs.ts";

export const FX_CHECK_INTERVAL_MS = 60_000;
const FETCH_TIMEOUT_MS = 20_000;
const MAX_BACKOFF_MS = 60 * 60_000;

export interface FxFetcher {
  /** Fetches now, whatever the schedule; resolves to the error, or null when rates were stored. */
  runNow(): Promise<string | null>;
  stop(): Promise<void>;
}

const fetchers = new WeakMap<AppContext, FxFetcher>();

export function fxFetcher(ctx: AppContext): FxFetcher | null {
  return fetchers.get(ctx) ?? null;
}

/** Whether a fetch is due: the last published working day is missing and the backoff after failures has passed. */
export function fetchDue(now: number, latestDay: string | null, failures: number, lastAttemptAt: number | null): boolean {
  if (latestDay !== null && latestDay >= lastPublishedWorkingDay(now)) return false;
  if (failures === 0 || lastAttemptAt === null) return true;
  return now - lastAttemptAt >= Math.min(60_000 * 2 ** (failures - 1), MAX_BACKOFF_MS);
}

/** `onRates` runs after new fixings are stored (payments waiting for them are converted). */
export function startFxFetcher(ctx: AppContext, onRates: () => void, intervalMs = FX_CHECK_INTERVAL_MS): FxFetcher | null {
  const url = ctx.config.fxUrl;
  if (!url) return null;
  const abort = new AbortController();
  let failures = 0;
  let lastAttemptAt: number | null = null;
  let running: Promise<string | null> | null = null;
  const attempt = async (): Promise<string | null> => {
    lastAttemptAt = ctx.now();
    let error: string | null = null;
    let added: string[] = [];
    try {
      const response = await fetch(url, { signal: AbortSignal.any([abort.signal, AbortSignal.timeout(FETCH_TIMEOUT_MS)]), headers: { accept: "application/xml, text/xml" } });
      if (!response.ok) throw new Error(`the feed answered HTTP ${response.status}`);
      const fixings = parseEcbXml(await response.text());
      added = await ctx.writes.job((tx) => storeFixings(tx, fixings));
    } catch (e) {
      error = abort.signal.aborted ? "stopped" : `${(e as Error).name === "TimeoutError" ? "the feed did not answer in time" : (e as Error).message}`;
    }
    failures = error === null ? 0 : failures + 1;
    if (!abort.signal.aborted) await ctx.writes.job((tx) => recordFeedAttempt(tx, ctx.now(), error)).catch(() => {});
    if (added.length > 0) onRates();
    return error;
  };
  const attemptOnce = () =>
    whileHolding(ctx, "fx-fetch", attempt).then(
      (outcome) => (outcome === null ? "another node is fetching the rates" : outcome.value),
      (error: Error) => error.message,
    );
  const runNow = () => (running ??= attemptOnce().finally(() => (running = null)));
  let checking = false;
  const tick = () => {
    if (running || checking) return;
    checking = true;
    readJob(ctx.storage, latestFixingDay)
      .then((latestDay) => {
        if (!running && !abort.signal.aborted && fetchDue(ctx.now(), latestDay, failures, lastAttemptAt)) void runNow();
      })
      .catch((error: Error) => console.error(`reading the latest fixing failed: ${error.message}`))
      .finally(() => (checking = false));
  };
  const first = setTimeout(tick, 0);
  const timer = setInterval(tick, intervalMs);
  const fetcher: FxFetcher = {
    runNow,
    async stop() {
      clearTimeout(first);
      clearInterval(timer);
      abort.abort();
      await running;
      fetchers.delete(ctx);
    },
  };
  fetchers.set(ctx, fetcher);
  return fetcher;
}
