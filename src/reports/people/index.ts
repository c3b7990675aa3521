// The entry to people counts for reports and dashboard pages: a range, a project and filters in,
// a PeopleQuery over its windows out.
import type { Database } from "bun:sqlite";
import type { FunnelStepName, Model, PeopleQuery } from "./count.ts";
import { ATTRIBUTION_DIMENSIONS, type AttributionDimension, type Context, type Money } from "./window.ts";
import { peopleWindows, personOf } from "./windows.ts";
import { localDate, startOfLocalDay } from "../../dashboard/range.ts";
import type { ReportDb } from "../source.ts";
import type { Storage } from "../../db/storage/storage.ts";
import { readText } from "../../db/postgres/dialect.ts";

const HOUR_MS = 3_600_000;

/** One value per attribution dimension ('' = traffic without one). */
export type ContextFilter = Partial<Record<AttributionDimension, string>>;

export interface PeopleRange {
  /** On PostgreSQL, after `primeReport` (../prime.ts) for this range. */
  db: ReportDb;
  projectId: string;
  from: number;
  to: number;
  timeZone: string;
  now: number;
  countRenewals?: boolean;
  filter?: ContextFilter;
  model?: Model;
}

export function contextTest(filter: ContextFilter = {}): ((context: Context) => boolean) | null {
  const tests = ATTRIBUTION_DIMENSIONS.flatMap((dimension, at) => (filter[dimension] === undefined ? [] : [[at, filter[dimension]] as const]));
  if (tests.length === 0) return null;
  return (context) => tests.every(([at, value]) => context[at] === value);
}

/**
 * A payment's net in the reporting currency, null while no rate is known (left out of converted sums,
 * never added across currencies); a renewal counts nothing when the project leaves renewals out.
 */
export function reportingNet(countRenewals: boolean): (money: Money) => number | null {
  return (money) => (!countRenewals && money.kind === "renewal" ? 0 : money.reportingNet);
}

/**
 * Where the windows counted again at each view begin: today takes the writes of live traffic, and the
 * hour before now those of the counter fold, so in the first hour after midnight yesterday too.
 */
export function openFrom(now: number, timeZone: string): number {
  return Math.min(startOfLocalDay(localDate(now, timeZone), timeZone), Math.floor(now / HOUR_MS) * HOUR_MS - HOUR_MS);
}

export function peopleQuery(range: PeopleRange): PeopleQuery {
  const windows = peopleWindows(range.db, range.projectId, range.from, range.to, range.timeZone, range.now);
  const people = personOf(range.db, range.projectId, range.now);
  const query = (filter: ContextFilter | undefined): PeopleQuery => ({
    windows,
    personOf: people,
    filter: contextTest(filter),
    model: range.model ?? "last",
    convert: reportingNet(range.countRenewals ?? true),
    key: JSON.stringify([range.projectId, filter ?? {}, range.model ?? "last", range.countRenewals ?? true]),
    // Counts over the days before are kept from one request to the next, and only the windows from here on are counted again.
    openFrom: openFrom(range.now, range.timeZone),
    single: null,
  });
  const filtered = query(range.filter);
  const only = Object.entries(range.filter ?? {}) as [AttributionDimension, string][];
  if (only.length === 1) filtered.single = { at: ATTRIBUTION_DIMENSIONS.indexOf(only[0]![0]), value: only[0]![1], unfiltered: query(undefined) };
  return filtered;
}

const STEP_COLUMNS: [FunnelStepName, string][] = [
  ["link_clicked", "clicks"],
  ["page_view", "pageviews"],
  ["pricing_view", "pricing_views"],
  ["signup_started", "signups_started"],
  ["signup_completed", "signups"],
];

// The same texts on both engines (PostgreSQL's sums cast back to BIGINT).
const STEP_SUMS = readText(() => `SELECT ${STEP_COLUMNS.map(([, column]) => `sum(${column}) AS ${column}`).join(", ")} FROM context_stats_periods WHERE project_id = ? AND grain = 'month'`);
const ANY_SALE = readText(() => "SELECT 1 AS sold FROM payments WHERE project_id = ? AND kind = 'sale' LIMIT 1");

/** The funnel steps this project has ever recorded (a site that never sends signup_started skips it). */
export function trackedSteps(db: Database, projectId: string): Set<FunnelStepName> {
  const sums = db.query<Record<string, number | null>, [string]>(STEP_SUMS.sqlite).get(projectId);
  return stepsOf(sums, db.query(ANY_SALE.sqlite).get(projectId) !== null);
}

/** The same steps read through a storage (PostgreSQL's funnel). */
export async function trackedStepsFrom(storage: Storage, projectId: string): Promise<Set<FunnelStepName>> {
  const [sums, sale] = await Promise.all([storage.get<Record<string, number | null>>(STEP_SUMS[storage.engine], [projectId]), storage.get(ANY_SALE[storage.engine], [projectId])]);
  return stepsOf(sums, sale !== null);
}

function stepsOf(sums: Record<string, number | null> | null, sold: boolean): Set<FunnelStepName> {
  const tracked = new Set<FunnelStepName>(STEP_COLUMNS.filter(([, column]) => (sums?.[column] ?? 0) > 0).map(([step]) => step));
  if (sold) tracked.add("payment_completed");
  return tracked;
}

export * from "./count.ts";
export { ATTRIBUTION_DIMENSIONS, VISIT_DIMENSIONS, type AttributionDimension, type VisitDimension } from "./window.ts";
export { personOf, warmPeopleWindows, warmPersons, warmWindowAndPages } from "./windows.ts";
