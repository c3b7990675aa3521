// Stored payments and their reporting values: converting one row (the ledger calls this inside its
// transaction), and the background job that converts history again in short chunks — after a
// change of reporting currency or manual rate, on first start, and when a missing rate arrives.
import type { Database } from "bun:sqlite";
import type { AppContext } from "../../context.ts";
import { prepared } from "../../tracking/statements.ts";
import { localDate } from "../../dashboard/range.ts";
import { convertPayment, type ConversionInput, type Reporting } from "./convert.ts";
import { fixingFor, manualRates } from "./rates.ts";
import { updateProjectSettings, type Project, type ProjectSettings } from "../../projects/service.ts";

/** The columns of a payment row that conversion reads and writes. */
export interface ConvertibleRow {
  id: string;
  project_id: string;
  kind: string;
  amount: number;
  net: number;
  currency: string;
  occurred_at: number;
  parent_payment_id: string | null;
  settlement_currency: string | null;
  settlement_amount: number | null;
  reporting_currency: string | null;
  reporting_amount: number | null;
  reporting_net: number | null;
  rate: number | null;
  rate_source: Reporting["rateSource"] | null;
  rate_date: string | null;
}

interface Basis {
  occurred_at: number;
  amount: number;
  settlement_currency: string | null;
  settlement_amount: number | null;
}

/** The project settings conversion depends on. */
export function reportingSettings(db: Database, projectId: string): { currency: string; timezone: string } {
  return prepared<{ currency: string; timezone: string }, [string]>(db, "SELECT currency, timezone FROM projects WHERE id = ?").get(projectId) ?? {
    currency: "USD",
    timezone: "UTC",
  };
}

const QUARTER_HOUR_MS = 900_000;
const days = new Map<string, string>();

/** The local day of an instant, memoised per quarter hour (every timezone's offset is a multiple of one): Intl costs ~50 µs a call. */
function dayOf(ms: number, timezone: string): string {
  const key = `${timezone}\u0000${Math.floor(ms / QUARTER_HOUR_MS)}`;
  let day = days.get(key);
  if (day === undefined) {
    if (days.size > 50_000) days.clear();
    days.set(key, (day = localDate(ms, timezone)));
  }
  return day;
}

/** What `convertPayment` needs for a stored row: a refund or dispute takes its sale's day and settlement, so it converts at the sale's rate. */
export function conversionInput(db: Database, row: ConvertibleRow, timezone: string): ConversionInput {
  const parent =
    (row.kind === "refund" || row.kind === "dispute") && row.parent_payment_id
      ? prepared<Basis, [string]>(db, "SELECT occurred_at, amount, settlement_currency, settlement_amount FROM payments WHERE id = ?").get(row.parent_payment_id)
      : null;
  const basis: Basis = parent ?? row;
  return {
    amount: row.amount,
    net: row.net,
    currency: row.currency,
    day: dayOf(basis.occurred_at, timezone),
    settlement:
      basis.settlement_currency && basis.settlement_amount !== null ? { currency: basis.settlement_currency, amount: basis.settlement_amount, of: basis.amount } : null,
  };
}

/** The row's reporting value with the rates stored now. */
export function reportingFor(db: Database, row: ConvertibleRow, settings = reportingSettings(db, row.project_id), manual = manualRates(db, row.project_id)): Reporting {
  const input = conversionInput(db, row, settings.timezone);
  return convertPayment(input, settings.currency, { ecb: fixingFor(db, input.day), manual });
}

/** The reporting value as the API shows it (SPEC §6), from the stored columns; null before the first conversion. */
export function storedReporting(row: ConvertibleRow): Reporting | null {
  if (row.rate_source === null || row.reporting_currency === null) return null;
  return {
    currency: row.reporting_currency,
    amount: row.reporting_amount,
    net: row.reporting_net,
    rate: row.rate,
    rateSource: row.rate_source,
    rateDate: row.rate_date,
  };
}

function sameReporting(row: ConvertibleRow, r: Reporting): boolean {
  return (
    row.reporting_currency === r.currency &&
    row.reporting_amount === r.amount &&
    row.reporting_net === r.net &&
    row.rate === r.rate &&
    row.rate_source === r.rateSource &&
    row.rate_date === r.rateDate
  );
}

export function writeReporting(db: Database, paymentId: string, r: Reporting): void {
  prepared(db, "UPDATE payments SET reporting_currency = ?, reporting_amount = ?, reporting_net = ?, rate = ?, rate_source = ?, rate_date = ? WHERE id = ?").run(
    r.currency,
    r.amount,
    r.net,
    r.rate,
    r.rateSource,
    r.rateDate,
    paymentId,
  );
}

/** Stores the changed reporting values and moves the rollup with them (the ledger's `rewriteReporting`). */
export type Rewrite = (changes: readonly { row: ConvertibleRow; next: Reporting }[]) => void;

/**
 * Converts stored rows again and passes those whose value changed to `rewrite`, all at once.
 * Returns how many changed and how many were looked at (it stops early when `shouldStop` says so).
 */
export function reconvertRows(
  db: Database,
  rows: readonly ConvertibleRow[],
  rewrite: Rewrite,
  shouldStop: () => boolean = () => false,
): { changed: number; done: number } {
  const changes: { row: ConvertibleRow; next: Reporting }[] = [];
  let done = 0;
  const settings = new Map<string, { currency: string; timezone: string }>();
  const manual = new Map<string, ReturnType<typeof manualRates>>();
  for (const row of rows) {
    if (!settings.has(row.project_id)) {
      settings.set(row.project_id, reportingSettings(db, row.project_id));
      manual.set(row.project_id, manualRates(db, row.project_id));
    }
    const next = reportingFor(db, row, settings.get(row.project_id)!, manual.get(row.project_id)!);
    done++;
    if (!sameReporting(row, next)) changes.push({ row, next });
    if (shouldStop()) break;
  }
  if (changes.length > 0) rewrite(changes);
  return { changed: changes.length, done };
}

/** Starts (or restarts) converting a project's whole history, e.g. after its reporting currency changed. */
export function queueReconversion(db: Database, projectId: string, now: number): void {
  const total = prepared<{ n: number }, [string]>(db, "SELECT COUNT(*) AS n FROM payments WHERE project_id = ?").get(projectId)!.n;
  prepared(
    db,
    `INSERT INTO fx_reconversions (project_id, after_rowid, done, total, started_at) VALUES (?, 0, 0, ?, ?)
     ON CONFLICT DO UPDATE SET after_rowid = 0, done = 0, total = excluded.total, started_at = excluded.started_at`,
  ).run(projectId, total, now);
}

export interface ConversionProgress {
  /** True while history is being converted again: converted sums then mix old and new values. */
  running: boolean;
  done: number;
  total: number;
}

/** For reports and settings: whether the project's converted sums are settled. */
export function conversionProgress(db: Database, projectId: string): ConversionProgress {
  const row = prepared<{ done: number; total: number }, [string]>(db, "SELECT done, total FROM fx_reconversions WHERE project_id = ?").get(projectId);
  return row ? { running: true, done: Math.min(row.done, row.total), total: row.total } : { running: false, done: 0, total: 0 };
}

const CHUNK_ROWS = 400;
/** A chunk stops early past this, so no request waits on the write queue for more than ~50 ms. */
const CHUNK_BUDGET_MS = 25;

/**
 * One chunk of background conversion: the oldest queued project's next rows, else rows still
 * without a rate. Returns true when it did work (call again), false when nothing is left.
 */
export function convertChunk(db: Database, rewrite: Rewrite): boolean {
  const started = performance.now();
  const job = prepared<{ project_id: string; after_rowid: number }, []>(db, "SELECT project_id, after_rowid FROM fx_reconversions ORDER BY started_at LIMIT 1").get();
  if (job) {
    const rows = prepared<ConvertibleRow & { rowid: number }, [string, number]>(
      db,
      // A walk along the rowids (+ keeps the planner off the project's time index, which would sort the whole project each chunk).
      `SELECT rowid, * FROM payments WHERE +project_id = ? AND rowid > ? ORDER BY rowid LIMIT ${CHUNK_ROWS}`,
    ).all(job.project_id, job.after_rowid);
    const count = reconvertRows(db, rows, rewrite, () => performance.now() - started > CHUNK_BUDGET_MS).done;
    const last = count > 0 ? rows[count - 1]!.rowid : job.after_rowid;
    if (count === 0 || (count === rows.length && rows.length < CHUNK_ROWS)) prepared(db, "DELETE FROM fx_reconversions WHERE project_id = ?").run(job.project_id);
    else prepared(db, "UPDATE fx_reconversions SET after_rowid = ?, done = done + ? WHERE project_id = ?").run(last, count, job.project_id);
    return true;
  }
  return false;
}

/**
 * After new rates arrived: the next chunk of rows without a rate after `afterRowid`, each converted
 * if it now can be. Returns where to continue, or null at the end. (Rows never converted at all
 * are history the migration queued as a reconversion of their project.)
 */
export function convertPendingChunk(db: Database, afterRowid: number, rewrite: Rewrite): number | null {
  const started = performance.now();
  const rows = prepared<ConvertibleRow & { rowid: number }, [number]>(
    db,
    `SELECT rowid, * FROM payments WHERE rate_source = 'none' AND rowid > ? ORDER BY rowid LIMIT ${CHUNK_ROWS}`,
  ).all(afterRowid);
  const done = reconvertRows(db, rows, rewrite, () => performance.now() - started > CHUNK_BUDGET_MS).done;
  return done < rows.length ? rows[done - 1]!.rowid : rows.length < CHUNK_ROWS ? null : rows.at(-1)!.rowid;
}

export interface ConversionJobs {
  /** Wakes the job (after a currency change, a manual rate, new fixings). */
  kick(): void;
  /** Resolves when nothing is queued (tests). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

const jobsByContext = new WeakMap<AppContext, ConversionJobs>();

export function conversionJobs(ctx: AppContext): ConversionJobs | null {
  return jobsByContext.get(ctx) ?? null;
}

/** Runs chunks one write at a time, yielding between them, until nothing is queued; `kick` wakes it. */
export function startConversionJobs(ctx: AppContext, rewrite: (db: Database, changes: readonly { row: ConvertibleRow; next: Reporting }[]) => void): ConversionJobs {
  let stopped = false;
  let running: Promise<void> | null = null;
  let again = false;
  const run = async () => {
    const pause = () => new Promise((resolve) => setTimeout(resolve, 1));
    do {
      again = false;
      for (let cursor: number | null = 0; cursor !== null && !stopped; await pause()) {
        const after: number = cursor;
        cursor = await ctx.writes.write((db) => convertPendingChunk(db, after, (changes) => rewrite(db, changes)));
      }
      while (!stopped && (await ctx.writes.write((db) => convertChunk(db, (changes) => rewrite(db, changes))))) await pause();
    } while (again && !stopped);
  };
  const kick = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = run()
      .catch((error) => console.error("currency conversion failed:", (error as Error).message))
      .finally(() => {
        running = null;
      });
  };
  const jobs: ConversionJobs = {
    kick,
    async idle() {
      while (running) await running;
    },
    async stop() {
      stopped = true;
      await running;
      jobsByContext.delete(ctx);
    },
  };
  jobsByContext.set(ctx, jobs);
  kick();
  return jobs;
}

/**
 * Saves a project's settings; a new reporting currency or timezone (which moves payments' days)
 * queues its history for conversion in the background and answers at once.
 */
export function changeProjectSettings(ctx: AppContext, before: Project, settings: ProjectSettings): Project | null {
  const after = updateProjectSettings(ctx.db, before.id, settings);
  if (after && (after.currency !== before.currency || after.timezone !== before.timezone)) {
    queueReconversion(ctx.db, before.id, ctx.now());
    conversionJobs(ctx)?.kick();
  }
  return after;
}
