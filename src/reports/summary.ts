// The range's totals and its funnel (SPEC §6, §10): people distinct over the whole range, clicks and
// money from the rollups.
import type { Database } from "bun:sqlite";
import { funnel, peopleQuery, peopleTotals, trackedSteps, type ContextFilter, type FunnelStep } from "./people/index.ts";
import { addEntry, byCurrencyOrder, emptyEntry, rollupSums, type AttributionReportRow, type ReportProject, type RollupEntry } from "./attribution.ts";

/** The range's totals: an attribution row without its key, people distinct over the whole range. */
export type Summary = Omit<AttributionReportRow, "key" | "label">;

/** Clicks and money of every key of one grouping: the range's totals. */
function totalSums(db: Database, project: ReportProject, range: { from: number; to: number; filter?: ContextFilter }): RollupEntry {
  const total = emptyEntry();
  for (const entry of rollupSums(db, project.id, { groupBy: "link", ...range }, project.countRenewals).values()) addEntry(total, entry);
  return total;
}

export function summaryReport(db: Database, project: ReportProject, range: { from: number; to: number; filter?: ContextFilter }, now: number): Summary {
  const people = peopleTotals(peopleQuery({ db, projectId: project.id, ...range, timeZone: project.timezone, now, countRenewals: project.countRenewals }));
  const { clicks, byCurrency, reporting: money } = totalSums(db, project, range);
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

export function funnelReport(db: Database, project: ReportProject, range: { from: number; to: number; filter?: ContextFilter }, now: number): FunnelStep[] {
  const q = peopleQuery({ db, projectId: project.id, ...range, timeZone: project.timezone, now, countRenewals: project.countRenewals });
  return funnel(q, trackedSteps(db, project.id));
}
