// The range's totals and its funnel (SPEC §6, §10): people distinct over the whole range, clicks and
// money from the rollups.
import type { Database } from "bun:sqlite";
import { funnel, peopleQuery, peopleTotals, trackedSteps, trackedStepsFrom, type AttributionDimension, type ContextFilter, type FunnelStep, type FunnelStepName } from "./people/index.ts";
import { byCurrencyOrder, emptyEntry, rollupSums, type AttributionReportRow, type ReportProject } from "./attribution.ts";
import { primeReport } from "./prime.ts";
import { PostgresReports, type ReportDb } from "./source.ts";

/** The range's totals: an attribution row without its key, people distinct over the whole range. */
export type Summary = Omit<AttributionReportRow, "key" | "label">;

/** The summary on either engine: on PostgreSQL its reads primed first, then the same computation (see source.ts). */
export async function summaryOn(db: ReportDb, project: ReportProject, range: { from: number; to: number; filter?: ContextFilter }, now: number): Promise<Summary> {
  if (db instanceof PostgresReports) {
    await primeReport(db, { projectId: project.id, from: range.from, to: range.to, timeZone: project.timezone, now }, [{ groupBy: null, filter: range.filter }]);
  }
  return summaryReport(db, project, range, now);
}

/** On PostgreSQL, only after its prime (`summaryOn`). */
export function summaryReport(db: ReportDb, project: ReportProject, range: { from: number; to: number; filter?: ContextFilter }, now: number): Summary {
  const people = peopleTotals(peopleQuery({ db, projectId: project.id, ...range, timeZone: project.timezone, now, countRenewals: project.countRenewals }));
  const { clicks, byCurrency, reporting: money } = rollupSums(db, project.id, { groupBy: null, ...range }, project.countRenewals, { timeZone: project.timezone, now }).get("") ?? emptyEntry();
  byCurrency.sort(byCurrencyOrder(project.currency));
  return {
    visitors: people.visitors,
    clicks,
    signups: people.signups,
    customers: people.customers,
    conversionRate: people.conversionRate,
    ...money,
    revenuePerVisitor: people.visitors ? Math.round(money.net / people.visitors) : 0,
    currency: project.currency,
    byCurrency,
  };
}

/** What a funnel can be narrowed by (the dashboard's pickers, the API's parameters). */
export const FUNNEL_FILTERS = ["link", "campaign", "source"] as const satisfies readonly AttributionDimension[];

/** The funnel on either engine: on PostgreSQL the tracked steps read and the range's windows primed first, then the same computation (see source.ts). */
export async function funnelOn(db: ReportDb, project: ReportProject, range: { from: number; to: number; filter?: ContextFilter }, now: number): Promise<FunnelStep[]> {
  if (!(db instanceof PostgresReports)) return funnelReport(db, project, range, now);
  const [tracked] = await Promise.all([
    trackedStepsFrom(db.storage, project.id),
    primeReport(db, { projectId: project.id, from: range.from, to: range.to, timeZone: project.timezone, now }),
  ]);
  return funnelOf(db, project, range, now, tracked);
}

export function funnelReport(db: Database, project: ReportProject, range: { from: number; to: number; filter?: ContextFilter }, now: number): FunnelStep[] {
  return funnelOf(db, project, range, now, trackedSteps(db, project.id));
}

/** On PostgreSQL, only after its prime (`funnelOn`). */
function funnelOf(db: ReportDb, project: ReportProject, range: { from: number; to: number; filter?: ContextFilter }, now: number, tracked: ReadonlySet<FunnelStepName>): FunnelStep[] {
  const q = peopleQuery({ db, projectId: project.id, ...range, timeZone: project.timezone, now, countRenewals: project.countRenewals });
  return funnel(q, tracked);
}
