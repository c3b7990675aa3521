// The attribution report: traffic (clicks, visitors, signups) and money (payments, revenue, refunds)
// per link, campaign, source, medium, content or lead, read from the hourly rollups only.
import type { Database } from "bun:sqlite";

export const GROUP_BY = ["link", "campaign", "source", "medium", "content", "lead"] as const;
export type GroupBy = (typeof GROUP_BY)[number];
export const MODELS = ["last", "first"] as const;
export type AttributionModel = (typeof MODELS)[number];

const COLUMN: Record<GroupBy, string> = {
  link: "link_id",
  campaign: "campaign_id",
  source: "source",
  medium: "medium",
  content: "content",
  lead: "lead_id",
};

export interface AttributionReportRow {
  /** The link id, campaign id, source…; null for traffic and payments without one. */
  key: string | null;
  clicks: number;
  visitors: number;
  signups: number;
  /** Sales and renewals. */
  payments: number;
  /** Net of tax, minor units of `currency`. */
  revenue: number;
  /** Refunds and disputes, net of tax, as a positive amount. */
  refunds: number;
  /** revenue - refunds. */
  net: number;
  /** Money is never summed across currencies: a key with payments in two currencies has two rows (traffic repeats on each). */
  currency: string;
}

export interface AttributionReportQuery {
  groupBy: GroupBy;
  /** Unix ms, inclusive (floored to the hour). */
  from: number;
  /** Unix ms, exclusive. */
  to: number;
  model?: AttributionModel;
  /** The currency of rows with traffic but no payments (the project's reporting currency). */
  reportingCurrency: string;
}

const HOUR_MS = 3_600_000;

type Row = Omit<AttributionReportRow, "net" | "currency"> & { currency: string | null };

const DAY_MS = 86_400_000;

/** Whole UTC days come from the daily rollups; the partial days at either edge from the hourly ones. */
function splitRange(from: number, to: number) {
  const fromHour = Math.floor(from / HOUR_MS) * HOUR_MS;
  const firstDay = Math.ceil(fromHour / DAY_MS) * DAY_MS;
  const lastDay = Math.floor(to / DAY_MS) * DAY_MS;
  if (firstDay >= lastDay) return { days: [0, 0], hours: [fromHour, to, 0, 0] };
  return { days: [firstDay, lastDay], hours: [fromHour, firstDay, lastDay, to] };
}

export function attributionReport(db: Database, projectId: string, query: AttributionReportQuery): AttributionReportRow[] {
  const column = COLUMN[query.groupBy];
  const model = query.model ?? "last";
  const { days, hours } = splitRange(query.from, query.to);
  const rows = db
    .query<Row, (string | number)[]>(
      `WITH traffic AS (
         SELECT key, SUM(clicks) AS clicks, SUM(visitors) AS visitors, SUM(signups) AS signups FROM (
           SELECT ${column} AS key, clicks, visitors, signups FROM context_stats_daily WHERE project_id = ? AND day >= ? AND day < ?
           UNION ALL
           SELECT ${column}, clicks, visitors, signups FROM context_stats_hourly
           WHERE project_id = ? AND ((hour >= ? AND hour < ?) OR (hour >= ? AND hour < ?))
         ) GROUP BY key
       ), money AS (
         SELECT key, currency, SUM(payments) AS payments, SUM(revenue) AS revenue, SUM(refunds) AS refunds FROM (
           SELECT ${column} AS key, currency, payments, revenue, refunds FROM payment_stats_daily WHERE project_id = ? AND model = ? AND day >= ? AND day < ?
           UNION ALL
           SELECT ${column}, currency, payments, revenue, refunds FROM payment_stats_hourly
           WHERE project_id = ? AND model = ? AND ((hour >= ? AND hour < ?) OR (hour >= ? AND hour < ?))
         ) GROUP BY key, currency
       )
       SELECT COALESCE(t.key, m.key) AS key, COALESCE(t.clicks, 0) AS clicks, COALESCE(t.visitors, 0) AS visitors, COALESCE(t.signups, 0) AS signups,
              COALESCE(m.payments, 0) AS payments, COALESCE(m.revenue, 0) AS revenue, COALESCE(m.refunds, 0) AS refunds, m.currency AS currency
       FROM traffic t FULL OUTER JOIN money m ON m.key = t.key`,
    )
    .all(projectId, ...days, projectId, ...hours, projectId, model, ...days, projectId, model, ...hours);
  return rows
    .filter((r) => r.clicks || r.visitors || r.signups || r.payments || r.revenue || r.refunds)
    .map((r) => ({
      key: r.key === "" ? null : r.key,
      clicks: r.clicks,
      visitors: r.visitors,
      signups: r.signups,
      payments: r.payments,
      revenue: r.revenue,
      refunds: r.refunds,
      net: r.revenue - r.refunds,
      currency: r.currency ?? query.reportingCurrency,
    }))
    .sort((a, b) => b.net - a.net || b.clicks - a.clicks || (a.key ?? "").localeCompare(b.key ?? ""));
}
