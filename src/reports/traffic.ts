// The traffic report (SPEC §6): visitors, pageviews, signups, customers, conversion and net revenue per
// page, entry page, referrer, country, device, browser or OS, people counted distinct over the range.
import type { Database } from "bun:sqlite";
import { peopleByTraffic, peopleQuery, type Breakdown, type ContextFilter, type TrafficCounts } from "./people/index.ts";
import type { ReportProject } from "./attribution.ts";

export const TRAFFIC_GROUP_BY = ["page", "entryPage", "referrer", "country", "device", "browser", "os"] as const;
export type TrafficGroupBy = (typeof TRAFFIC_GROUP_BY)[number];

export interface TrafficReportRow extends Omit<TrafficCounts, "people" | "converted"> {
  /** A page's path, a referrer's host, an ISO country code…; null where unknown. */
  key: string | null;
  currency: string;
}

const breakdownOf = (groupBy: TrafficGroupBy): Exclude<Breakdown, { kind: "attribution" }> =>
  groupBy === "page" ? { kind: "page" } : { kind: "visit", dimension: groupBy };

export function trafficReport(
  db: Database,
  project: ReportProject,
  query: { groupBy: TrafficGroupBy; from: number; to: number; filter?: ContextFilter },
  now: number,
): TrafficReportRow[] {
  const q = peopleQuery({ db, projectId: project.id, from: query.from, to: query.to, timeZone: project.timezone, now, countRenewals: project.countRenewals, filter: query.filter });
  return [...peopleByTraffic(q, breakdownOf(query.groupBy))]
    .map(([key, { people: _people, converted: _converted, ...counts }]) => ({ key: key === "" ? null : key, ...counts, currency: project.currency }))
    .sort((a, b) => b.visitors - a.visitors || b.pageviews - a.pageviews || (a.key ?? "").localeCompare(b.key ?? ""));
}
