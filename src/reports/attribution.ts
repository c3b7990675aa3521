// The attribution report: traffic (clicks, visitors, signups) and money (payments, revenue, refunds)
// per link, campaign, source, medium, content or lead, read from the hourly rollups only.
import type { Database } from "bun:sqlite";

export const GROUP_BY = ["link", "campaign", "source", "medium", "content", "lead"] as const;
export type GroupBy = (typeof GROUP_BY)[number];
export const MODELS = ["last", "first"] as const;
export type AttributionModel = (typeof MODELS)[number];

/** The rollup column each attribution dimension is stored in. */
export const GROUP_BY_COLUMN = {
  link: "link_id",
  campaign: "campaign_id",
  source: "source",
  medium: "medium",
  content: "content",
  lead: "lead_id",
} as const satisfies Record<GroupBy, string>;

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

type Grain = "hour" | "day" | "month";
interface Span {
  grain: Grain;
  from: number;
  to: number;
}

function monthStart(ms: number, offset = 0): number {
  const date = new Date(ms);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + offset, 1);
}

/** Whole UTC months from the monthly rollups, whole days from the daily ones, edge hours from the hourly ones. */
export function reportSpans(from: number, to: number): Span[] {
  const fromHour = Math.floor(from / HOUR_MS) * HOUR_MS;
  const firstDay = Math.ceil(fromHour / DAY_MS) * DAY_MS;
  const lastDay = Math.floor(to / DAY_MS) * DAY_MS;
  if (firstDay >= lastDay) return [{ grain: "hour", from: fromHour, to }];
  const firstMonth = monthStart(firstDay) === firstDay ? firstDay : monthStart(firstDay, 1);
  const lastMonth = monthStart(lastDay);
  const middle: Span[] =
    firstMonth < lastMonth
      ? [
          { grain: "day", from: firstDay, to: firstMonth },
          { grain: "month", from: firstMonth, to: lastMonth },
          { grain: "day", from: lastMonth, to: lastDay },
        ]
      : [{ grain: "day", from: firstDay, to: lastDay }];
  const spans: Span[] = [{ grain: "hour", from: fromHour, to: firstDay }, ...middle, { grain: "hour", from: lastDay, to }];
  return spans.filter((span) => span.from < span.to);
}

/** Where each grain is kept: hours in the hourly rollups, days and months in the period rollups. */
function source(span: Span, kind: "traffic" | "money"): { table: string; where: string } {
  const table = kind === "traffic" ? "context_stats" : "payment_stats";
  return span.grain === "hour"
    ? { table: `${table}_hourly`, where: "hour >= ? AND hour < ?" }
    : { table: `${table}_periods`, where: `grain = '${span.grain}' AND period >= ? AND period < ?` };
}

export function attributionReport(db: Database, projectId: string, query: AttributionReportQuery): AttributionReportRow[] {
  const column = GROUP_BY_COLUMN[query.groupBy];
  const model = query.model ?? "last";
  const spans = reportSpans(query.from, query.to);
  const part = (span: Span, kind: "traffic" | "money", columns: string) => {
    const { table, where } = source(span, kind);
    return `SELECT ${column} AS key, ${columns} FROM ${table} WHERE project_id = ?${kind === "money" ? " AND model = ?" : ""} AND ${where}`;
  };
  // Two grouped reads over the rollups, joined here: cheaper than a FULL JOIN of two aggregates in SQL.
  const traffic = db
    .query<{ key: string; clicks: number; visitors: number; signups: number }, (string | number)[]>(
      `SELECT key, SUM(clicks) AS clicks, SUM(visitors) AS visitors, SUM(signups) AS signups
       FROM (${spans.map((span) => part(span, "traffic", "clicks, visitors, signups")).join(" UNION ALL ")}) GROUP BY key`,
    )
    .all(...spans.flatMap((span) => [projectId, span.from, span.to]));
  const money = db
    .query<{ key: string; currency: string; payments: number; revenue: number; refunds: number }, (string | number)[]>(
      `SELECT key, currency, SUM(payments) AS payments, SUM(revenue) AS revenue, SUM(refunds) AS refunds
       FROM (${spans.map((span) => part(span, "money", "currency, payments, revenue, refunds")).join(" UNION ALL ")}) GROUP BY key, currency`,
    )
    .all(...spans.flatMap((span) => [projectId, model, span.from, span.to]));
  const trafficByKey = new Map(traffic.map((t) => [t.key, t]));
  const rows: Row[] = money.map((m) => ({ ...(trafficByKey.get(m.key) ?? { clicks: 0, visitors: 0, signups: 0 }), ...m }));
  const withMoney = new Set(money.map((m) => m.key));
  for (const t of traffic) if (!withMoney.has(t.key)) rows.push({ ...t, payments: 0, revenue: 0, refunds: 0, currency: null });
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
