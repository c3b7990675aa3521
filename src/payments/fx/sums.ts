// Converted money for a range, read from the ledger: what the payments list, exports and tests show,
// and the reference the rollup's converted columns must match. Sums are exact whatever their size.
import type { Database } from "bun:sqlite";
import { reportingSettings } from "./stored.ts";
import { readJob, runJobOnSqlite, type JobSteps, type JobTx } from "../../db/storage/jobs.ts";
import type { Storage } from "../../db/storage/storage.ts";

/**
 * SQL for an exact sum of an integer expression: split at 10^9 so neither half can overflow
 * SQLite's 64-bit SUM (which fails with "integer overflow"); `exactSum` joins the halves. Each half
 * is cast back to BIGINT: PostgreSQL's sum of a BIGINT is a NUMERIC, which arrives as text.
 */
export function exactSumSql(expression: string, alias: string): string {
  return `CAST(SUM((${expression}) / 1000000000) AS BIGINT) AS ${alias}_hi, CAST(SUM((${expression}) % 1000000000) AS BIGINT) AS ${alias}_lo`;
}

export function exactSum(row: Record<string, unknown>, alias: string): number {
  const hi = BigInt((row[`${alias}_hi`] as number | null) ?? 0);
  const lo = BigInt((row[`${alias}_lo`] as number | null) ?? 0);
  return Number(hi * 1_000_000_000n + lo);
}

export interface ConvertedTotals {
  /** The reporting currency. */
  currency: string;
  /** Sales (and renewals, when the project counts them), net of tax, in minor units of `currency`. */
  revenue: number;
  /** Refunds and disputes, net of tax, as a positive amount. */
  refunds: number;
  net: number;
  /** Payments left out of the sums for want of a rate (or not converted yet). */
  unconverted: number;
  unconvertedByCurrency: { currency: string; payments: number }[];
}

/** The project's converted money over [from, to), honouring its "count renewals" setting. */
export async function convertedTotals(storage: Storage, projectId: string, range: { from: number; to: number }): Promise<ConvertedTotals> {
  const { currency } = await readJob(storage, (tx) => reportingSettings(tx, projectId));
  const countRenewals = (await storage.get<{ c: number }>("SELECT count_renewals AS c FROM projects WHERE id = ?", [projectId]))?.c !== 0;
  const earning = countRenewals ? "kind IN ('sale', 'renewal')" : "kind = 'sale'";
  const row = (await storage.get<Record<string, number | null>>(
    `SELECT ${exactSumSql(`CASE WHEN ${earning} AND rate_source != 'none' THEN reporting_net ELSE 0 END`, "revenue")},
            ${exactSumSql("CASE WHEN kind IN ('refund', 'dispute') AND rate_source != 'none' THEN -reporting_net ELSE 0 END", "refunds")}
     FROM payments WHERE project_id = ? AND occurred_at >= ? AND occurred_at < ?`,
    [projectId, range.from, range.to],
  ))!;
  const unconvertedByCurrency = await storage.all<{ currency: string; payments: number }>(
    `SELECT currency, COUNT(*) AS payments FROM payments
     WHERE project_id = ? AND occurred_at >= ? AND occurred_at < ? AND (rate_source = 'none' OR rate_source IS NULL)
     GROUP BY currency ORDER BY payments DESC, currency`,
    [projectId, range.from, range.to],
  );
  const revenue = exactSum(row, "revenue");
  const refunds = exactSum(row, "refunds");
  return {
    currency,
    revenue,
    refunds,
    net: revenue - refunds,
    unconverted: unconvertedByCurrency.reduce((n, c) => n + c.payments, 0),
    unconvertedByCurrency,
  };
}

/**
 * Every payment of the project left without a rate, per original currency, most first: read from
 * the monthly rollup (one row per key and month), not the ledger, so its cost does not grow with it.
 */
export function* unconvertedCurrencies(tx: JobTx, projectId: string): JobSteps<{ currency: string; payments: number }[]> {
  return yield* tx.all<{ currency: string; payments: number }>(
    `SELECT currency, CAST(SUM(unconverted) AS BIGINT) AS payments FROM payment_stats_periods WHERE project_id = ? AND model = 'last' AND grain = 'month'
     GROUP BY currency HAVING SUM(unconverted) > 0 ORDER BY payments DESC, currency`,
    [projectId],
  );
}

/** `unconvertedCurrencies` on SQLite's connection, for the callers still synchronous (reports, dashboard pages). */
export function unconvertedByCurrency(db: Database, projectId: string): { currency: string; payments: number }[] {
  return runJobOnSqlite(db, (tx) => unconvertedCurrencies(tx, projectId));
}
