// The range's totals and its funnel (SPEC §6, §10): people distinct over the whole range, clicks and
// money from the rollups.
import type { Database } from "bun:sqlite";
import { funnel, peopleQuery, peopleTotals, trackedSteps, type ContextFilter, type FunnelStep } from "./people/index.ts";
import { reportingMoney, rollupSums, type AttributionReportRow, type CurrencySums, type ReportProject } from "./attribution.ts";

/** The range's totals: an attribution row without its key, people distinct over the whole range. */
export type Summary = Omit<AttributionReportRow, "key" | "label">;

/** Per currency over every key of one grouping: a total of the rollups. */
function totalSums(db: Database, projectId: string, range: { from: number; to: number; filter?: ContextFilter }): { clicks: number; byCurrency: CurrencySums[] } {
  let clicks = 0;
  const byCurrency = new Map<string, CurrencySums>();
  for (const row of rollupSums(db, projectId, { groupBy: "link", ...range }).values()) {
    clicks += row.clicks;
    for (const m of row.byCurrency) {
      const into = byCurrency.get(m.currency) ?? { currency: m.currency, payments: 0, revenue: 0, refunds: 0, net: 0 };
      byCurrency.set(m.currency, { currency: m.currency, payments: into.payments + m.payments, revenue: into.revenue + m.revenue, refunds: into.refunds + m.refunds, net: into.net + m.net });
    }
  }
  return { clicks, byCurrency: [...byCurrency.values()] };
}

export function summaryReport(db: Database, project: ReportProject, range: { from: number; to: number; filter?: ContextFilter }, now: number): Summary {
  const people = peopleTotals(peopleQuery({ db, projectId: project.id, ...range, timeZone: project.timezone, now, reportingCurrency: project.currency }));
  const { clicks, byCurrency } = totalSums(db, project.id, range);
  byCurrency.sort((a, b) => Number(b.currency === project.currency) - Number(a.currency === project.currency) || b.net - a.net);
  const money = reportingMoney(byCurrency, project.currency);
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
  const q = peopleQuery({ db, projectId: project.id, ...range, timeZone: project.timezone, now, reportingCurrency: project.currency });
  return funnel(q, trackedSteps(db, project.id));
}
