// Keeps the last WARM_DAYS closed days of every project folded in memory from server start on, so a
// page's first view after a restart reads memory instead of summing a month of hourly rollups.
//
// On PostgreSQL the same passes read through the storage what a page's prime would read (src/reports/
// source.ts, prime.ts), one window, day or page of links at a time with a pause between: the 30-day
// views' days and windows (and their previous period's), the persons map, today's closed hours with
// their pages, the subscriptions, and the 30-day people counts and sums, so a page's prime finds them
// fresh and reads only what was written since. Each node warms its own memory; write notes from this
// node and the others (src/reports/writes.ts, node-notes.ts) make what changed stale for the next pass.
import type { AppContext } from "../../context.ts";
import { listProjects } from "../../projects/service.ts";
import { primeFoldedDays, warmDays } from "../../reports/days.ts";
import { primeSums } from "../../reports/attribution.ts";
import { GROUP_BY } from "../../reports/dimensions.ts";
import { openFrom, peopleByAttribution, peopleQuery, peopleTotals, primePeople, trackedSteps, trackedStepsFrom, warmPeopleWindows, warmPersons, warmWindowAndPages, ATTRIBUTION_DIMENSIONS, VISIT_DIMENSIONS, type AttributionDimension, type ContextFilter, type PeoplePlan } from "../../reports/people/index.ts";
import { FUNNEL_FILTERS } from "../../reports/summary.ts";
import { TOP_TABLE_BREAKDOWNS } from "./overview.ts";
import { addDays, localDate, parseRange, startOfLocalDay, type RangePreset } from "../range.ts";
import { bucketsFor } from "./time.ts";
import { primeSubscriptions } from "../../subscriptions/mrr.ts";
import type { Project } from "../../projects/service.ts";
import { PostgresReports, reportDb, type ReportDb } from "../../reports/source.ts";

/** Covers the 365-day view (and the 30- and 90-day views with their previous periods). */
export const WARM_DAYS = 366;
/** PostgreSQL: the 30-day view and its previous period (each node keeps what it reads in its own memory). */
export const POSTGRES_WARM_DAYS = 60;
const HOUR_MS = 3_600_000;
/** How often the warmer looks again for days going stale (a fold goes stale after 5 minutes). */
const RECHECK_MS = 30_000;

export interface WarmupStats {
  days: number;
  ms: number;
  /** The longest the event loop was held by one slice (on PostgreSQL, with the wait for its read, when the loop is free). */
  longestSliceMs: number;
}

export interface FoldWarmer {
  /** Resolves when the first pass over every project has folded its days. */
  ready: Promise<WarmupStats>;
  /** Days the first pass has gone through, of how many; null once it is done. */
  progress: { done: number; total: number } | null;
  stop(): Promise<void>;
}

const warmers = new WeakMap<AppContext, FoldWarmer>();

/** The running server's warmer, if it started one. */
export function foldWarmer(ctx: AppContext): FoldWarmer | null {
  return warmers.get(ctx) ?? null;
}

export function startFoldWarmer(ctx: AppContext, recheckMs = RECHECK_MS): FoldWarmer {
  let stopped = false;
  let wake: () => void = () => {};
  let longestSliceMs = 0;
  let sliceStart = performance.now();
  // A macrotask between slices: redirects and collect requests waiting on the socket run here.
  const pause = () =>
    new Promise<void>((resolve, reject) => {
      longestSliceMs = Math.max(longestSliceMs, performance.now() - sliceStart);
      setTimeout(() => {
        sliceStart = performance.now();
        if (stopped) reject(new WarmupStopped());
        else resolve();
      }, 0);
    });
  const db = reportDb(ctx);
  const warm = db instanceof PostgresReports ? { days: POSTGRES_WARM_DAYS, ranges: POSTGRES_RANGES } : { days: WARM_DAYS, ranges: PRIMED_RANGES };
  const pass = async (onDay?: () => void) => {
    let days = 0;
    for (const project of await listProjects(ctx.storage)) {
      // Read before they age out: the same links keep every kept count valid, and the read costs no page view.
      await warmPersons(db, project.id, ctx.now(), 2 * recheckMs, pause);
      days += await warmDays(db, project.id, project.timezone, warm.days, ctx.now, pause, undefined, onDay);
      for (const primed of warm.ranges) await primeRange(ctx, db, project, primed, pause);
      // Today's closed hours, which every range ending today reads (a page then reads only the hours written since).
      const now = ctx.now();
      const today = startOfLocalDay(localDate(now, project.timezone), project.timezone);
      const hour = Math.floor(now / HOUR_MS) * HOUR_MS;
      // And their pages viewed, which the pages report reads for today.
      await warmPeopleWindows(db, project.id, today, hour, project.timezone, now, pause, { pages: true });
      // In the first hour after midnight every range counts yesterday at each view too: its pages (~220 ms at 11M events) are read here.
      if (openFrom(now, project.timezone) < today) {
        const yesterday = startOfLocalDay(addDays(localDate(now, project.timezone), -1), project.timezone);
        await warmWindowAndPages(db, project.id, yesterday, today, now, pause);
      }
      // What the MRR page and GET /reports/mrr read.
      await primeSubscriptions(db, project.id, ctx.now(), pause);
    }
    return days;
  };
  const run = async (): Promise<WarmupStats> => {
    const started = performance.now();
    await pause();
    warmer.progress = { done: 0, total: (await listProjects(ctx.storage)).length * warm.days };
    const days = await pass(() => warmer.progress && warmer.progress.done++);
    warmer.progress = null;
    return { days, ms: performance.now() - started, longestSliceMs };
  };
  const ready = run();
  const loop = ready
    .then(async () => {
      while (!stopped) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, recheckMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        if (!stopped) await pass();
      }
    })
    .catch((error) => {
      if (!(error instanceof WarmupStopped)) console.error("fold warm-up failed:", error);
    });
  const warmer: FoldWarmer = {
    ready,
    progress: null,
    async stop() {
      stopped = true;
      wake();
      await loop;
    },
  };
  warmers.set(ctx, warmer);
  return warmer;
}

class WarmupStopped extends Error {}

/**
 * The ranges whose people counts are counted ahead, with every attribution report. A year of them
 * costs ~150 MB at 11M events (1.91 GB resident after the warm-up instead of 1.76), affordable since
 * kept contexts are shared (see reports/interned.ts); it spares the year's links, mediums, contents
 * and leads a first view of ~1 s.
 */
const PRIMED_RANGES: {
  preset: RangePreset;
  attribution: readonly AttributionDimension[];
  previousAttribution: readonly AttributionDimension[];
  /** Also count ahead the overview and the funnel filtered on each value with `LARGE_VALUE_SHARE` of the range's visitors or more. */
  largeValues: boolean;
}[] = [
  // The previous 30 days' reports give a view filtered on one value its previous totals (the tiles' change) without counting.
  { preset: "30d", attribution: ATTRIBUTION_DIMENSIONS, previousAttribution: ATTRIBUTION_DIMENSIONS, largeValues: false },
  { preset: "365d", attribution: ATTRIBUTION_DIMENSIONS, previousAttribution: [], largeValues: true },
];
/** PostgreSQL: the default 30-day view's (a year's windows read through the storage are left to the pages that ask). */
const POSTGRES_RANGES = PRIMED_RANGES.filter((primed) => primed.preset === "30d");

/**
 * A view filtered on one value costs with that value's visits: over a year at 11M events, filtered on
 * the largest source, the funnel took 270-440 ms on first view and the overview's top tables 110-310 ms
 * (the next sources' funnels 240-250 ms, a campaign's 90 ms; a 30-day range ~100 ms at most). So over a
 * year those views are counted ahead for the few values with a fifth of the visitors or more (~25-30 MB each).
 */
const LARGE_VALUE_SHARE = 0.2;

/**
 * Counts ahead, over the days before today, the people the preset's unfiltered pages show (the
 * overview's tiles, chart and tables, every traffic report, the funnel, the attribution reports named),
 * and the previous period's totals, so their first view counts only today.
 */
async function primeRange(ctx: AppContext, db: ReportDb, project: Project, primed: (typeof PRIMED_RANGES)[number], pause: () => Promise<unknown>): Promise<void> {
  const now = ctx.now();
  const range = parseRange(new URLSearchParams({ range: primed.preset }), project.timezone, now);
  // Only the days before today are kept: reading today's windows here would only read them again.
  const today = startOfLocalDay(localDate(now, project.timezone), project.timezone);
  // The windows first, a slice at a time: after writes into past days (a re-conversion re-sums every day) reading them all at once held the event loop 200-400 ms.
  const query = async (from: number, to: number, filter?: ContextFilter) => {
    await warmPeopleWindows(db, project.id, from, Math.min(to, today), project.timezone, now, pause);
    return peopleQuery({ db, projectId: project.id, from, to: Math.min(to, today), timeZone: project.timezone, now, countRenewals: project.countRenewals, filter });
  };
  const buckets = bucketsFor(range, project.timezone);
  const plan: PeoplePlan = {
    totals: true,
    attribution: primed.attribution,
    traffic: [{ kind: "page" }, ...VISIT_DIMENSIONS.map((dimension) => ({ kind: "visit" as const, dimension }))],
    buckets: { count: buckets.starts.length, bucketOf: (w) => buckets.indexOf(w.start) },
    funnel: db instanceof PostgresReports ? await trackedStepsFrom(db.storage, project.id) : trackedSteps(db, project.id),
  };
  const unfiltered = await query(range.from, range.to);
  await primePeople(unfiltered, plan, pause);
  // PostgreSQL: the sums below take the range's days from memory, today's too (the past ones are warm already).
  if (db instanceof PostgresReports) await primeFoldedDays(db, project.id, range.from, range.to, project.timezone, now);
  if (primed.largeValues) {
    const visitors = peopleTotals(unfiltered).visitors;
    // The overview's tiles, chart and top tables, and the funnel (which filters on these dimensions alone).
    const filteredPlan: PeoplePlan = { ...plan, attribution: TOP_TABLE_BREAKDOWNS.attribution, traffic: TOP_TABLE_BREAKDOWNS.traffic };
    for (const dimension of FUNNEL_FILTERS) {
      for (const [value, counts] of peopleByAttribution(unfiltered, dimension)) {
        if (value === "" || visitors === 0 || counts.visitors < LARGE_VALUE_SHARE * visitors) continue;
        const filter = { [dimension]: value };
        await primePeople(await query(range.from, range.to, filter), filteredPlan, pause);
        for (const groupBy of [null, ...TOP_TABLE_BREAKDOWNS.attribution]) {
          await primeSums(db, project.id, { groupBy, from: range.from, to: range.to, filter }, { timeZone: project.timezone, now }, pause);
        }
        await primePeople(await query(range.previousFrom, range.previousTo, filter), { totals: true, attribution: [], traffic: [], buckets: null, funnel: null }, pause);
      }
    }
  }
  // The money beside those counts: the range's totals and its sums by every attribution dimension.
  for (const groupBy of [null, ...GROUP_BY]) await primeSums(db, project.id, { groupBy, from: range.from, to: range.to }, { timeZone: project.timezone, now }, pause);
  await primePeople(await query(range.previousFrom, range.previousTo), { totals: true, attribution: primed.previousAttribution, traffic: [], buckets: null, funnel: null }, pause);
}
