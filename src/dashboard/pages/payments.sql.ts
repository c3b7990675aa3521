// Revenue read from the hourly payments rollup (payment_stats_hourly, last-touch model), and ledger
// entries narrowed to one attribution context for the report drill-downs.
import type { Database } from "bun:sqlite";
import type { Storage } from "../../db/storage/storage.ts";
import type { PaymentRow } from "../../payments/ledger.ts";
import { toPaymentEntry, type PaymentEntry } from "../../payments/service.ts";
import type { TimeRange } from "./time.ts";
import { DIMENSIONS, rollupWhere, type ContextFilter, type Dimension } from "./traffic.sql.ts";

export interface Revenue {
  currency: string;
  /** Sales and renewals. */
  payments: number;
  /** Net of tax, minor units. */
  revenue: number;
  /** Refunds and disputes, net of tax, positive. */
  refunds: number;
  net: number;
  /** The net in the reporting currency, of the payments that had a rate. */
  reportingNet: number;
  /** Payments without a rate into the reporting currency, left out of `reportingNet`. */
  unconverted: number;
}

const MONEY = `currency, sum(payments) AS payments, sum(revenue) AS revenue, sum(refunds) AS refunds, sum(revenue) - sum(refunds) AS net,
  sum(reporting_revenue) - sum(reporting_refunds) AS reportingNet, sum(unconverted) AS unconverted`;

/** One row per currency, the reporting currency first, then by net. Never summed across currencies. */
export function revenueTotals(db: Database, projectId: string, range: TimeRange, filter: ContextFilter, reportingCurrency: string): Revenue[] {
  const w = rollupWhere(projectId, range, filter);
  return db
    .query<Revenue, (string | number)[]>(`SELECT ${MONEY} FROM payment_stats_hourly WHERE model = 'last' AND ${w.sql} GROUP BY currency`)
    .all(...w.params)
    .sort((a, b) => Number(b.currency === reportingCurrency) - Number(a.currency === reportingCurrency) || b.net - a.net);
}

/** Revenue per hour and currency under a rollup filter's WHERE: the text both engines read (PostgreSQL's through postgresText). */
export const revenueByHourSql = (where: string) => `SELECT hour, ${MONEY} FROM payment_stats_hourly WHERE model = 'last' AND ${where} GROUP BY hour, currency ORDER BY hour`;

export function revenueByHour(db: Database, projectId: string, range: TimeRange, filter: ContextFilter): (Revenue & { hour: number })[] {
  const w = rollupWhere(projectId, range, filter);
  return db.query<Revenue & { hour: number }, (string | number)[]>(revenueByHourSql(w.sql)).all(...w.params);
}

/** Sales, renewals, refunds and disputes attributed to `value` of `dimension` ('' = none) in the range, newest first. */
export async function paymentsWithContext(storage: Storage, projectId: string, range: TimeRange, dimension: Dimension, value: string, limit = 100): Promise<PaymentEntry[]> {
  const column = DIMENSIONS[dimension];
  const rows = await storage.all<PaymentRow>(
    `SELECT * FROM payments WHERE project_id = ? AND occurred_at >= ? AND occurred_at < ? AND coalesce(${column}, '') = ?
     ORDER BY occurred_at DESC, id DESC LIMIT ?`,
    [projectId, range.from, range.to, value, limit],
  );
  return rows.map(toPaymentEntry);
}

/** The explanation as the engine wrote it, one sentence per step (the ledger entry joins them); on either engine. */
export async function explanationTrail(storage: Storage, projectId: string, paymentId: string): Promise<string[]> {
  const row = await storage.get<{ explanation: string }>("SELECT explanation FROM payments WHERE project_id = ? AND id = ?", [projectId, paymentId]);
  return row ? (JSON.parse(row.explanation) as string[]) : [];
}
