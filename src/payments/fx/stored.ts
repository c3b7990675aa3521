// Stored payments and their reporting values: converting one row (the ledger calls this inside its
// transaction), and the background job that converts history again in short chunks — after a
// change of reporting currency or manual rate, on first start, and when a missing rate arrives.
import type { AppContext } from "../../context.ts";
import { noteSubscriptionsChanged, noteWrite } from "../../reports/writes.ts";
import { localDate } from "../../dashboard/range.ts";
import { conversionRate, convertPayment, rateApplier, type ConversionInput, type ManualRate, type Reporting } from "./convert.ts";
import type { ContextColumns, FirstTouchColumns } from "../../attribution/loader.ts";
import { fixingFor, manualRates } from "./rates.ts";
import { updateProjectSettings, type Project, type ProjectSettings } from "../../projects/service.ts";
import { LEASE_MS, whileHolding } from "../../db/leases.ts";
import type { JobSteps, JobTx } from "../../db/storage/jobs.ts";
import { perEngine } from "../../db/postgres/dialect.ts";

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
  subscription_id: string | null;
  settlement_currency: string | null;
  settlement_amount: number | null;
  reporting_currency: string | null;
  reporting_amount: number | null;
  reporting_net: number | null;
  rate: number | null;
  rate_source: Reporting["rateSource"] | null;
  rate_date: string | null;
}

/** What a payment converts on: its own day and settlement, or for a refund or dispute its sale's, so it converts at the sale's rate. */
export interface Basis {
  occurred_at: number;
  amount: number;
  settlement_currency: string | null;
  settlement_amount: number | null;
}

/** A row as the background job reads it: with its rollup keys and its sale's basis (null columns when it has none). */
export interface ChunkRow extends ConvertibleRow, ContextColumns, FirstTouchColumns {
  rowid: number;
  sale_occurred_at: number | null;
  sale_amount: number | null;
  sale_settlement_currency: string | null;
  sale_settlement_amount: number | null;
}

/** The project settings conversion depends on. */
export function* reportingSettings(tx: JobTx, projectId: string): JobSteps<{ currency: string; timezone: string }> {
  return (yield* tx.get<{ currency: string; timezone: string }>("SELECT currency, timezone FROM projects WHERE id = ?", [projectId])) ?? { currency: "USD", timezone: "UTC" };
}

const QUARTER_HOUR_MS = 900_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
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

const refundsOnSale = (kind: string) => kind === "refund" || kind === "dispute";

/** What `convertPayment` needs for a stored row, given the basis it converts on (`saleBasis`). */
export function conversionInput(row: ConvertibleRow, basis: Basis, timezone: string): ConversionInput {
  return {
    amount: row.amount,
    net: row.net,
    currency: row.currency,
    day: dayOf(basis.occurred_at, timezone),
    settlement:
      basis.settlement_currency && basis.settlement_amount !== null ? { currency: basis.settlement_currency, amount: basis.settlement_amount, of: basis.amount } : null,
  };
}

/** The row's basis: its sale's for a refund or dispute whose sale is recorded, else its own. */
function* saleBasis(tx: JobTx, row: ConvertibleRow): JobSteps<Basis> {
  const sale =
    refundsOnSale(row.kind) && row.parent_payment_id
      ? yield* tx.get<Basis>("SELECT occurred_at, amount, settlement_currency, settlement_amount FROM payments WHERE id = ?", [row.parent_payment_id])
      : null;
  return sale ?? row;
}

/** The row's reporting value with the rates stored now. */
export function* reportingFor(tx: JobTx, row: ConvertibleRow): JobSteps<Reporting> {
  const settings = yield* reportingSettings(tx, row.project_id);
  const manual = yield* manualRates(tx, row.project_id);
  const input = conversionInput(row, yield* saleBasis(tx, row), settings.timezone);
  return convertPayment(input, settings.currency, { ecb: yield* fixingFor(tx, input.day), manual });
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

const REPORTING_COLUMNS = "reporting_currency = ?, reporting_amount = ?, reporting_net = ?, rate = ?, rate_source = ?, rate_date = ?";

/** Stores a payment's reporting value, and the MRR of the subscription period it paid follows it; what reads its hour in memory reads it again. */
export function* writeReporting(
  tx: JobTx,
  payment: Pick<ConvertibleRow, "id" | "project_id" | "kind" | "subscription_id" | "occurred_at"> & { rowid?: number },
  r: Reporting,
): JobSteps<void> {
  yield* tx.note(noteWrite, payment.project_id, payment.occurred_at);
  const values = [r.currency, r.amount, r.net, r.rate, r.rateSource, r.rateDate];
  // By rowid when the caller read it (the background job): one lookup instead of the id's index and then the row.
  if (payment.rowid === undefined) yield* tx.run(`UPDATE payments SET ${REPORTING_COLUMNS} WHERE id = ?`, [...values, payment.id]);
  else yield* tx.run(`UPDATE payments SET ${REPORTING_COLUMNS} WHERE rowid = ?`, [...values, payment.rowid]);
  if (payment.subscription_id && (payment.kind === "sale" || payment.kind === "renewal")) {
    yield* tx.run("UPDATE subscription_periods SET reporting_net = ? WHERE payment_id = ?", [r.net, payment.id]);
    yield* tx.note(noteSubscriptionsChanged, payment.project_id);
  }
}

/** Stores changed reporting values, for the re-conversion's chunks. */
export function* storeReportings(tx: JobTx, changes: readonly { row: ChunkRow; next: Reporting }[]): JobSteps<void> {
  for (const { row, next } of changes) yield* writeReporting(tx, row, next);
}

/** Stores the changed reporting values and moves the rollup with them (the ledger's `rewriteReporting`). */
export type Rewrite = (changes: readonly { row: ChunkRow; next: Reporting }[]) => JobSteps<void>;

/** Rows converted and rewritten between two looks at the clock. */
const SLICE_ROWS = 64;

/**
 * Converts stored rows again and passes those whose value changed to `rewrite`, a slice at a time,
 * until `deadline` (a `performance.now()` time) passes; returns how many rows it finished. A
 * payment's rate depends only on its currency and day (unless the provider settled it): each is
 * worked out once per call and applied to every payment it serves.
 */
export function* reconvertRows(tx: JobTx, rows: readonly ChunkRow[], rewrite: Rewrite, deadline = Infinity): JobSteps<number> {
  const projects = new Map<string, { currency: string; timezone: string; manual: ManualRate[] }>();
  const appliers = new Map<string, ReturnType<typeof rateApplier>>();
  function* convert(row: ChunkRow): JobSteps<Reporting> {
    let project = projects.get(row.project_id);
    if (!project) {
      const settings = yield* reportingSettings(tx, row.project_id);
      projects.set(row.project_id, (project = { ...settings, manual: yield* manualRates(tx, row.project_id) }));
    }
    const basis: Basis =
      refundsOnSale(row.kind) && row.sale_occurred_at !== null
        ? { occurred_at: row.sale_occurred_at, amount: row.sale_amount!, settlement_currency: row.sale_settlement_currency, settlement_amount: row.sale_settlement_amount }
        : row;
    const input = conversionInput(row, basis, project.timezone);
    if (input.settlement?.currency === project.currency) return convertPayment(input, project.currency, { ecb: null, manual: [] });
    const key = `${row.project_id}\u0000${input.day}\u0000${input.currency}`;
    let apply = appliers.get(key);
    if (!apply) {
      const rate = conversionRate({ ...input, settlement: null }, project.currency, { ecb: yield* fixingFor(tx, input.day), manual: project.manual });
      appliers.set(key, (apply = rateApplier(rate, input.currency, project.currency)));
    }
    return apply(input.amount, input.net);
  }
  let done = 0;
  while (done < rows.length && (done === 0 || performance.now() < deadline)) {
    const changes: { row: ChunkRow; next: Reporting }[] = [];
    for (const row of rows.slice(done, done + SLICE_ROWS)) {
      const next = yield* convert(row);
      if (!sameReporting(row, next)) changes.push({ row, next });
    }
    if (changes.length > 0) yield* rewrite(changes);
    done = Math.min(rows.length, done + SLICE_ROWS);
  }
  return done;
}

/** Starts (or restarts) converting a project's whole history, e.g. after its reporting currency changed. */
export function* queueReconversion(tx: JobTx, projectId: string, now: number): JobSteps<void> {
  const total = (yield* tx.get<{ n: number }>("SELECT COUNT(*) AS n FROM payments WHERE project_id = ?", [projectId]))!.n;
  yield* tx.run(
    `INSERT INTO fx_reconversions (project_id, after_rowid, done, total, started_at) VALUES (?, 0, 0, ?, ?)
     ON CONFLICT (project_id) DO UPDATE SET after_rowid = 0, done = 0, total = excluded.total, started_at = excluded.started_at, rollup_hour = NULL, rollup_end = NULL, rollup_step = NULL`,
    [projectId, total, now],
  );
}

export interface ConversionProgress {
  /** True while history is being converted again: converted sums then mix old and new values. */
  running: boolean;
  done: number;
  total: number;
}

/** For reports and settings: whether the project's converted sums are settled. */
export function* readConversionProgress(tx: JobTx, projectId: string): JobSteps<ConversionProgress> {
  const row = yield* tx.get<{ done: number; total: number }>("SELECT done, total FROM fx_reconversions WHERE project_id = ?", [projectId]);
  return row ? { running: true, done: Math.min(row.done, row.total), total: row.total } : { running: false, done: 0, total: 0 };
}


/** Each chunk aims at this long and stops converting past `CHUNK_BUDGET_MS`, so a request waits on it well under 50 ms. */
const CHUNK_TARGET_MS = 8;
const CHUNK_BUDGET_MS = 10;
const MIN_CHUNK_ROWS = 50;
const MAX_CHUNK_ROWS = 5000;

/** How many rows the next chunk reads so it lasts about `CHUNK_TARGET_MS`, from the `rows` of `limit` the last one finished in `ms`. */
export function nextChunkRows(rows: number, limit: number, ms: number): number {
  // A tail shorter than the chunk says nothing about speed; grow at most twice at a time, as a chunk of cached pages may be followed by one that reads the disk.
  if (rows < limit && ms < CHUNK_BUDGET_MS) return limit;
  if (rows === 0 || ms <= 0) return Math.min(MAX_CHUNK_ROWS, limit * 2);
  return Math.max(MIN_CHUNK_ROWS, Math.min(MAX_CHUNK_ROWS, rows * 2, Math.floor((rows * CHUNK_TARGET_MS) / ms)));
}

/** The columns a chunk reads: the row's own, its rollup keys, and its sale's day and settlement. */
const CHUNK_COLUMNS = `p.rowid AS rowid, p.id, p.project_id, p.kind, p.amount, p.net, p.currency, p.occurred_at, p.parent_payment_id, p.subscription_id,
  p.settlement_currency, p.settlement_amount, p.reporting_currency, p.reporting_amount, p.reporting_net, p.rate, p.rate_source, p.rate_date,
  p.link_id, p.campaign_id, p.source, p.medium, p.content, p.lead_id, p.first_link_id, p.first_campaign_id, p.first_source, p.first_medium, p.first_content, p.first_lead_id,
  s.occurred_at AS sale_occurred_at, s.amount AS sale_amount, s.settlement_currency AS sale_settlement_currency, s.settlement_amount AS sale_settlement_amount
  FROM payments p LEFT JOIN payments s ON p.kind IN ('refund', 'dispute') AND s.id = p.parent_payment_id`;

/** The ledger's re-sums of the rollup's converted columns (`resumConvertedHours`, `resumConvertedPeriod`). */
export interface Resum {
  hours(tx: JobTx, projectId: string, from: number, to: number): JobSteps<void>;
  period(tx: JobTx, projectId: string, model: "last" | "first", grain: "day" | "month", start: number, end: number): JobSteps<void>;
}

/** Hours of rollup re-summed per chunk: about 350 payments at a million a year, ~4 ms. */
const RESUM_HOURS = 3;

/**
 * After a day's hours, its day rows and then, when the month is whole, the month's, one model per
 * chunk: a month's rows summed for both models at once held the event loop for ~55 ms.
 */
type PeriodStep = "day last" | "day first" | "month last" | "month first";

interface Job {
  project_id: string;
  after_rowid: number;
  rollup_hour: number | null;
  rollup_end: number | null;
  rollup_step: PeriodStep | null;
}

const dayStart = (t: number) => t - (t % DAY_MS);

function monthOf(day: number): { start: number; end: number } {
  const date = new Date(day);
  return { start: Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1), end: Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1) };
}

/** The first hour in [from, to) the project's rollup has rows for, or null. */
function* nextRollupHour(tx: JobTx, projectId: string, from: number, to: number): JobSteps<number | null> {
  return (yield* tx.get<{ at: number | null }>("SELECT MIN(hour) AS at FROM payment_stats_hourly WHERE project_id = ? AND model = 'last' AND hour >= ? AND hour < ?", [projectId, from, to]))?.at ?? null;
}

/**
 * A chunk's walk along the project's rowids. SQLite's `+` keeps its planner off the project's time
 * index, which would sort the whole project each chunk; PostgreSQL has no unary plus for text.
 */
const CHUNK_OF_PROJECT = perEngine(
  (engine) => `SELECT ${CHUNK_COLUMNS} WHERE ${engine === "sqlite" ? "+" : ""}p.project_id = ? AND p.rowid > ? ORDER BY p.rowid LIMIT ?`,
);

/**
 * One chunk of a project's re-conversion, the oldest queued first. First the payments, at most
 * `limit` rows along their rowids, each stored with its new value (`write`) and the rollup left
 * alone; then the rollup's converted columns re-summed from them: `RESUM_HOURS` at a time, and after
 * each day its period steps, skipping days the rollup has no rows for (far cheaper than moving six
 * rollup rows per payment). Returns how many payments it looked at, or null when no project is queued.
 */
export function* convertChunk(tx: JobTx, write: Rewrite, resum: Resum, limit: number): JobSteps<number | null> {
  const job = yield* tx.get<Job>("SELECT project_id, after_rowid, rollup_hour, rollup_end, rollup_step FROM fx_reconversions ORDER BY started_at LIMIT 1");
  if (!job) return null;
  const projectId = job.project_id;
  const placeAt = (hour: number, step: PeriodStep | null) => tx.run("UPDATE fx_reconversions SET rollup_hour = ?, rollup_step = ? WHERE project_id = ?", [hour, step, projectId]);
  const finish = () => tx.run("DELETE FROM fx_reconversions WHERE project_id = ?", [projectId]);
  if (job.rollup_hour === null || job.rollup_end === null) {
    const rows = yield* tx.all<ChunkRow>(CHUNK_OF_PROJECT[tx.engine], [projectId, job.after_rowid, limit]);
    const done = yield* reconvertRows(tx, rows, write, performance.now() + CHUNK_BUDGET_MS);
    if (done < rows.length || rows.length === limit) {
      yield* tx.run("UPDATE fx_reconversions SET after_rowid = ?, done = done + ? WHERE project_id = ?", [rows[done - 1]!.rowid, done, projectId]);
      return done;
    }
    // Two queries: SQLite answers a lone MIN or MAX from the primary key, but both at once by reading every row of the project.
    const first = (yield* tx.get<{ at: number | null }>("SELECT MIN(hour) AS at FROM payment_stats_hourly WHERE project_id = ? AND model = 'last'", [projectId]))!.at;
    const last = (yield* tx.get<{ at: number | null }>("SELECT MAX(hour) AS at FROM payment_stats_hourly WHERE project_id = ? AND model = 'last'", [projectId]))!.at;
    if (first === null || last === null) yield* finish();
    else {
      yield* tx.run("UPDATE fx_reconversions SET after_rowid = ?, done = done + ?, rollup_hour = ?, rollup_end = ?, rollup_step = NULL WHERE project_id = ?", [
        rows.at(-1)?.rowid ?? job.after_rowid,
        done,
        dayStart(first),
        dayStart(last) + DAY_MS,
        projectId,
      ]);
    }
    return done;
  }
  const day = dayStart(job.rollup_hour);
  const month = monthOf(day);
  const step = job.rollup_step;
  if (step === null) {
    const to = Math.min(job.rollup_hour + RESUM_HOURS * HOUR_MS, day + DAY_MS);
    yield* resum.hours(tx, projectId, job.rollup_hour, to);
    yield* placeAt(to < day + DAY_MS ? to : day, to < day + DAY_MS ? null : "day last");
    return 0;
  }
  const [grain, model] = step.split(" ") as ["day" | "month", "last" | "first"];
  if (grain === "day") yield* resum.period(tx, projectId, model, "day", day, day + DAY_MS);
  else yield* resum.period(tx, projectId, model, "month", month.start, month.end);
  if (model === "last") {
    yield* placeAt(day, `${grain} first`);
    return 0;
  }
  // On to the next day the rollup has rows for; the month is whole when that lies beyond it.
  const next = yield* nextRollupHour(tx, projectId, day + DAY_MS, job.rollup_end);
  if (grain === "day" && (next === null || next >= month.end)) yield* placeAt(day, "month last");
  else if (next === null) yield* finish();
  else yield* placeAt(dayStart(next), null);
  return 0;
}

/**
 * After new rates arrived: the next chunk of at most `limit` rows without a rate after `afterRowid`,
 * each converted if it now can be. Returns the last rowid looked at and how many rows, the rowid null
 * at the end. (Rows never converted at all are history the migration queued as a reconversion of their project.)
 */
export function* convertPendingChunk(tx: JobTx, afterRowid: number, rewrite: Rewrite, limit: number): JobSteps<{ last: number | null; rows: number }> {
  const rows = yield* tx.all<ChunkRow>(`SELECT ${CHUNK_COLUMNS} WHERE p.rate_source = 'none' AND p.rowid > ? ORDER BY p.rowid LIMIT ?`, [afterRowid, limit]);
  const done = yield* reconvertRows(tx, rows, rewrite, performance.now() + CHUNK_BUDGET_MS);
  return { last: done === rows.length && rows.length < limit ? null : rows[done - 1]!.rowid, rows: done };
}

export interface ConversionStats {
  /** Since the job last started from idle: chunks run, payments looked at, and the longest a chunk held the event loop. */
  chunks: number;
  rows: number;
  /** Payments whose reporting value changed. */
  changed: number;
  /** From queueing a chunk to its commit: its own work, what else ran in its batch, and the wait for the event loop. */
  longestChunkMs: number;
  /** The chunk's own work, inside its write. */
  longestWorkMs: number;
}

export interface ConversionJobs {
  /** Wakes the job (after a currency change, a manual rate, new fixings). */
  kick(): void;
  stats(): ConversionStats;
  /** Resolves when nothing is queued (tests). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

const jobsByContext = new WeakMap<AppContext, ConversionJobs>();

export function conversionJobs(ctx: AppContext): ConversionJobs | null {
  return jobsByContext.get(ctx) ?? null;
}

/**
 * Runs chunks one write at a time, each sized to last about `CHUNK_TARGET_MS`, yielding to the
 * event loop between them, until nothing is queued; `kick` wakes it.
 */
export function startConversionJobs(
  ctx: AppContext,
  /** The ledger's: store changed values and move the rollup by them; re-sum a span of the rollup. */
  ledger: { rewrite: (tx: JobTx, changes: readonly { row: ChunkRow; next: Reporting }[]) => JobSteps<void>; resum: Resum },
): ConversionJobs {
  let stopped = false;
  let running: Promise<void> | null = null;
  let again = false;
  let stats: ConversionStats = { chunks: 0, rows: 0, changed: 0, longestChunkMs: 0, longestWorkMs: 0 };
  let limit = MIN_CHUNK_ROWS;
  // Counted once the chunk's job has run: on PostgreSQL a batch that fails runs its jobs again.
  let changedInChunk = 0;
  /** One chunk in its own write; adapts the next chunk's size to the time this one held the event loop. */
  const chunk = async <T>(work: (tx: JobTx, limit: number) => JobSteps<T>, rowsOf: (result: T) => number): Promise<T> => {
    const started = performance.now();
    let begun = 0;
    let workMs = 0;
    const result = await ctx.writes.job(
      function* (tx) {
        begun = performance.now();
        changedInChunk = 0;
        const out = yield* work(tx, limit);
        workMs = performance.now() - begun;
        return out;
      },
      { bulk: true },
    );
    const ms = performance.now() - started;
    const rows = rowsOf(result);
    stats = { ...stats, chunks: stats.chunks + 1, rows: stats.rows + rows, changed: stats.changed + changedInChunk, longestChunkMs: Math.max(stats.longestChunkMs, ms), longestWorkMs: Math.max(stats.longestWorkMs, workMs) };
    // Sized by the event loop's hold, its work to its commit: not by the wait for the checkpointer's turn at the disk.
    limit = nextChunkRows(rows, limit, performance.now() - begun);
    await new Promise((resolve) => setTimeout(resolve, 1));
    return result;
  };
  const rewriteCounted = (tx: JobTx) =>
    function* (changes: readonly { row: ChunkRow; next: Reporting }[]): JobSteps<void> {
      yield* ledger.rewrite(tx, changes);
      changedInChunk += changes.length;
    };
  /** A whole history's walk stores the values alone: its rollup is re-summed once the walk is over. */
  const writeCounted = (tx: JobTx) =>
    function* (changes: readonly { row: ChunkRow; next: Reporting }[]): JobSteps<void> {
      yield* storeReportings(tx, changes);
      changedInChunk += changes.length;
    };
  const run = async (lost: () => boolean) => {
    const halted = () => stopped || lost();
    do {
      again = false;
      for (let cursor: number | null = 0; cursor !== null && !halted(); ) {
        const after: number = cursor;
        cursor = (await chunk((tx, n) => convertPendingChunk(tx, after, rewriteCounted(tx), n), (r) => r.rows)).last;
      }
      while (!halted() && (await chunk((tx, n) => convertChunk(tx, writeCounted(tx), ledger.resum, n), (r) => r ?? 0)) !== null);
    } while (again && !halted());
  };
  let retry: Timer | null = null;
  const kick = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    stats = { chunks: 0, rows: 0, changed: 0, longestChunkMs: 0, longestWorkMs: 0 };
    running = whileHolding(ctx, "currency-conversion", run)
      .then((outcome) => {
        // Another node converts: what it has not seen yet is tried again once its turn may be over.
        if (outcome === null && !stopped) retry ??= setTimeout(() => ((retry = null), kick()), LEASE_MS / 3);
      })
      .catch((error) => console.error("currency conversion failed:", (error as Error).message))
      .finally(() => {
        running = null;
      });
  };
  const jobs: ConversionJobs = {
    kick,
    stats: () => stats,
    async idle() {
      while (running) await running;
    },
    async stop() {
      stopped = true;
      if (retry) clearTimeout(retry);
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
export async function changeProjectSettings(ctx: AppContext, before: Project, settings: ProjectSettings): Promise<Project | null> {
  const after = await updateProjectSettings(ctx.storage, before.id, settings);
  if (after && (after.currency !== before.currency || after.timezone !== before.timezone)) {
    await ctx.writes.job((tx) => queueReconversion(tx, before.id, ctx.now()));
    conversionJobs(ctx)?.kick();
  }
  return after;
}
