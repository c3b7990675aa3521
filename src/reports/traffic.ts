// The traffic report (SPEC §6): visitors, pageviews, signups, customers, conversion and net revenue per
// page, entry page, referrer, country, device, browser or OS, people counted distinct over the range.
import { peopleByTraffic, peopleQuery, type Breakdown, type ContextFilter, type TrafficCounts } from "./people/index.ts";
import type { ReportProject } from "./attribution.ts";
import { primeReport } from "./prime.ts";
import { PostgresReports, type ReportDb } from "./source.ts";

export const TRAFFIC_GROUP_BY = ["page", "entryPage", "referrer", "country", "device", "browser", "os"] as const;
export type TrafficGroupBy = (typeof TRAFFIC_GROUP_BY)[number];

export interface TrafficReportRow extends Omit<TrafficCounts, "people" | "converted"> {
  /** A page's path, a referrer's host, an ISO country code…; null where unknown. */
  key: string | null;
  currency: string;
}

const breakdownOf = (groupBy: TrafficGroupBy): Exclude<Breakdown, { kind: "attribution" }> =>
  groupBy === "page" ? { kind: "page" } : { kind: "visit", dimension: groupBy };

export interface TrafficReportQuery {
  groupBy: TrafficGroupBy;
  from: number;
  to: number;
  filter?: ContextFilter;
}

/** The traffic report on either engine: on PostgreSQL its reads primed first (by page, the windows' pages viewed too), then the same computation (see source.ts). */
export async function trafficOn(db: ReportDb, project: ReportProject, query: TrafficReportQuery, now: number): Promise<TrafficReportRow[]> {
  if (db instanceof PostgresReports) {
    await primeReport(db, { projectId: project.id, from: query.from, to: query.to, timeZone: project.timezone, now }, [], { pages: query.groupBy === "page" });
  }
  return trafficReport(db, project, query, now);
}

/** On PostgreSQL, only after its prime (`trafficOn`). */
export function trafficReport(
  db: ReportDb,
  project: ReportProject,
  query: TrafficReportQuery,
  now: number,
): TrafficReportRow[] {
  const q = peopleQuery({ db, projectId: project.id, from: query.from, to: query.to, timeZone: project.timezone, now, countRenewals: project.countRenewals, filter: query.filter });
  return [...peopleByTraffic(q, breakdownOf(query.groupBy))]
    .map(([key, { people: _people, converted: _converted, ...counts }]) => ({ key: key === "" ? null : key, ...counts, currency: project.currency }))
    .sort((a, b) => b.visitors - a.visitors || b.pageviews - a.pageviews || (a.key ?? "").localeCompare(b.key ?? ""));
}
