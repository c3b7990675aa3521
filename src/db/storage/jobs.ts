// Write jobs: the writes that share a group commit, one code for both engines. A job is a generator
// that yields its statements and gets each one's answer back: `const row = yield* tx.get<Row>(sql, params)`
// (`yield*` each call at once). On SQLite the write queue runs it to its end at once, inside its
// synchronous batch transaction: each statement runs where it is called and `yield*` finds it answered,
// so no other code runs between its statements and the batch keeps SQLite's speed
// (src/db/write-queue.ts). On PostgreSQL the statements are yielded and each answer is awaited
// (src/db/postgres/write-queue.ts).
//
// Beside SQL a job yields what a write does beyond its rows: a batch sum (`tx.sum`, a counter added up
// per batch and written once per key before COMMIT) and a write note (`tx.note`, telling in-memory
// readers such as reports what changed). On SQLite both happen at once, inside the batch, as before
// jobs; on PostgreSQL the queue keeps them in the batch's `JobBatch` and writes the sums before COMMIT
// and applies the notes after it.
//
// A job touches only the database: a batch that fails on PostgreSQL is run again one job at a time, so
// what a job does in memory belongs after its promise resolves (or in a note). A statement that fails
// ends the job (the job cannot catch it: PostgreSQL aborts the transaction), so "insert unless present"
// is ON CONFLICT.
import type { Database, SQLQueryBindings } from "bun:sqlite";
import { prepared } from "../../tracking/statements.ts";
import type { Engine, SqlValue, Storage } from "./storage.ts";

/** A counter summed per batch and key (src/db/batch-sums.ts). */
export interface JobSums {
  /** On SQLite: inside a queued write, into the batch's sums; anywhere else, written at once. */
  add(db: Database, key: string, params: SqlValue[], values: number[]): void;
  /** Folds a later job's values for the same key into an earlier one's. */
  merge(into: number[], more: number[]): void;
  /** The upsert that adds one key's values to its table. */
  write(tx: JobTx, params: readonly SqlValue[], values: number[]): JobSteps<void>;
  /** PostgreSQL: a batch's keys in a few statements rather than `write`'s round trips per key; in key order. */
  writeAll?(tx: JobTx, keys: readonly SummedKey[]): JobSteps<void>;
}

/**
 * Tells in-memory readers that something was written (src/reports/writes.ts); `source` is what they
 * read through: the Database on SQLite, the queue's `notesFor` on PostgreSQL.
 */
export type WriteNote = (source: object, projectId: string, ts: number) => void;

/** What a job yields on PostgreSQL, for the queue to run; on SQLite each runs where it is called. */
export type JobStatement =
  | { kind: "all" | "get" | "run" | "insert"; sql: string; params: readonly SqlValue[] }
  | { kind: "sum"; sums: JobSums; key: string; params: SqlValue[]; values: number[] }
  | { kind: "note"; note: WriteNote; projectId: string; ts: number };

export interface JobTx {
  readonly engine: Engine;
  all<Row>(sql: string, params?: readonly SqlValue[]): JobSteps<Row[]>;
  get<Row>(sql: string, params?: readonly SqlValue[]): JobSteps<Row | null>;
  run(sql: string, params?: readonly SqlValue[]): JobSteps<{ changes: number }>;
  /**
   * Inserts one row into a table whose key is an integer `id`, and answers that id: SQLite's last
   * rowid (RETURNING cost its INSERT a third more), PostgreSQL's `RETURNING id`.
   */
  insert(sql: string, params: readonly SqlValue[]): JobSteps<number>;
  /** Adds `values` to the counter row `params` names; `key` is `params` joined by NUL. */
  sum(sums: JobSums, key: string, params: SqlValue[], values: number[]): JobSteps<void>;
  note(note: WriteNote, projectId: string, ts?: number): JobSteps<void>;
  /** SQLite's housekeeping inside the batch, with its connection (a pragma, a scrub of free pages); nothing on PostgreSQL. */
  onSqlite(work: (db: Database) => void): JobSteps<void>;
}

/** What a job, or a helper it calls with `yield*`, is: its statements, then its value. */
export type JobSteps<T> = Generator<JobStatement, T, unknown>;

export type Job<T> = (tx: JobTx) => JobSteps<T>;

/** Where jobs are queued for the next group commit: the SQLite write queue, or PostgreSQL's. */
export interface JobQueue {
  /** Resolves once the job's batch is committed; rejects with the job's own error, its batch committed without it. */
  job<T>(job: Job<T>, options?: JobOptions): Promise<T>;
}

export interface JobOptions {
  /** SQLite: a job of many rows, which the queue may commit in a batch of its own. */
  bulk?: boolean;
  /**
   * PostgreSQL, where batches commit concurrently on every node (SQLite has one writer): names the job's
   * transaction locks before its first statement. A batch takes all its jobs' locks at its start, in
   * one order, so jobs naming one key never run at once and never deadlock.
   */
  locks?: readonly string[];
}

const withReturning = new Map<string, string>();
const returningId = (sql: string) => withReturning.get(sql) ?? withReturning.set(sql, `${sql} RETURNING id`).get(sql)!;

/** A tx whose statements are yielded, for whoever runs the job to await each answer. */
const yieldingTx = (engine: Engine): JobTx => ({
  engine,
  *all<Row>(sql: string, params: readonly SqlValue[] = []): JobSteps<Row[]> {
    return (yield { kind: "all", sql, params }) as Row[];
  },
  *get<Row>(sql: string, params: readonly SqlValue[] = []): JobSteps<Row | null> {
    return (yield { kind: "get", sql, params }) as Row | null;
  },
  *run(sql: string, params: readonly SqlValue[] = []): JobSteps<{ changes: number }> {
    return (yield { kind: "run", sql, params }) as { changes: number };
  },
  *insert(sql: string, params: readonly SqlValue[]): JobSteps<number> {
    return (yield { kind: "insert", sql: returningId(sql), params }) as number;
  },
  *sum(sums: JobSums, key: string, params: SqlValue[], values: number[]): JobSteps<void> {
    yield { kind: "sum", sums, key, params, values };
  },
  *note(note: WriteNote, projectId: string, ts = 0): JobSteps<void> {
    yield { kind: "note", note, projectId, ts };
  },
  onSqlite: () => answered(undefined),
});

/** PostgreSQL's tx: each statement is yielded, for the queue to await its answer. */
const postgresTx = yieldingTx("postgres");

/** An iterator already done, with its value: what `yield*` finds when there is nothing to wait for. */
class Answered<T> {
  readonly done = true;
  constructor(public value: T) {}

  [Symbol.iterator](): this {
    return this;
  }

  next(): this {
    return this;
  }
}

const asSteps = <T>(answer: Answered<unknown>) => answer as unknown as JobSteps<T>;

/** Steps with no statement, only a value: for a helper that finds it needs no query. */
export function answered<T>(value: T): JobSteps<T> {
  return asSteps<T>(new Answered(value));
}

/**
 * SQLite's tx: each statement runs as it is called, inside the batch, and its answer is returned
 * already done, so a job runs to its end without suspending. Yielding every statement to a loop cost
 * collect a few µs a hit in generator resumes, statement objects and their garbage (bench/tracking.ts).
 * One per connection, with one answer object reused: the `yield*` around each call reads it before
 * any other statement can run.
 */
class SqliteJobTx implements JobTx {
  readonly engine = "sqlite";
  private readonly answer = new Answered<unknown>(null);

  constructor(private readonly db: Database) {}

  private answering<T>(value: T): JobSteps<T> {
    this.answer.value = value;
    return asSteps<T>(this.answer);
  }

  all<Row>(sql: string, params: readonly SqlValue[] = []): JobSteps<Row[]> {
    return this.answering(prepared<Row>(this.db, sql).all(...(params as SQLQueryBindings[])));
  }

  get<Row>(sql: string, params: readonly SqlValue[] = []): JobSteps<Row | null> {
    return this.answering(prepared<Row>(this.db, sql).get(...(params as SQLQueryBindings[])));
  }

  run(sql: string, params: readonly SqlValue[] = []): JobSteps<{ changes: number }> {
    return this.answering({ changes: prepared(this.db, sql).run(...(params as SQLQueryBindings[])).changes });
  }

  insert(sql: string, params: readonly SqlValue[]): JobSteps<number> {
    return this.answering(Number(prepared(this.db, sql).run(...(params as SQLQueryBindings[])).lastInsertRowid));
  }

  sum(sums: JobSums, key: string, params: SqlValue[], values: number[]): JobSteps<void> {
    sums.add(this.db, key, params, values);
    return this.answering(undefined);
  }

  note(note: WriteNote, projectId: string, ts = 0): JobSteps<void> {
    note(this.db, projectId, ts);
    return this.answering(undefined);
  }

  onSqlite(work: (db: Database) => void): JobSteps<void> {
    work(this.db);
    return this.answering(undefined);
  }
}

const sqliteTxs = new WeakMap<Database, SqliteJobTx>();

/** Runs a job to its end on SQLite, synchronously: inside a queued write. */
export function runJobOnSqlite<T>(db: Database, job: Job<T>): T {
  let tx = sqliteTxs.get(db);
  if (!tx) sqliteTxs.set(db, (tx = new SqliteJobTx(db)));
  const step = job(tx).next();
  if (!step.done) throw new Error("a write job yielded something other than its tx's statements");
  return step.value;
}

export interface SummedKey {
  params: readonly SqlValue[];
  values: number[];
}

/**
 * One PostgreSQL batch's sums and notes. Kept per attempt: a batch that fails is dropped whole with its
 * transaction, and each job run again alone gets a batch of its own.
 */
export type JobNote = Extract<JobStatement, { kind: "note" }>;

export class JobBatch {
  private readonly sums = new Map<JobSums, Map<string, SummedKey>>();
  readonly notes: JobNote[] = [];

  add(statement: JobStatement): void {
    if (statement.kind === "note") this.notes.push(statement);
    else if (statement.kind === "sum") {
      let keys = this.sums.get(statement.sums);
      if (!keys) this.sums.set(statement.sums, (keys = new Map()));
      const known = keys.get(statement.key);
      if (known) statement.sums.merge(known.values, statement.values);
      else keys.set(statement.key, { params: statement.params, values: statement.values });
    }
  }

  /** Inside the batch's transaction, just before COMMIT: each key once. */
  async writeSums(storage: Storage): Promise<void> {
    for (const [sums, keys] of this.sums) {
      // In key order, so batches of two nodes (or two of this node's) lock the counter rows they share in one order.
      const sorted = [...keys.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, key]) => key);
      if (sums.writeAll) await runStatements(storage, sums.writeAll(postgresTx, sorted), this);
      else for (const { params, values } of sorted) await runStatements(storage, sums.write(postgresTx, params, values), this);
    }
  }

  /** Once committed, for this node's readers; the queue's `announce` tells the other nodes (src/reports/node-notes.ts). */
  applyNotes(source: object): void {
    for (const { note, projectId, ts } of this.notes) note(source, projectId, ts);
  }
}

/** Runs a job through a PostgreSQL transaction's storage, awaiting each statement; its sums and notes go to `batch`. */
export function runJob<T>(storage: Storage, job: Job<T>, batch: JobBatch): Promise<T> {
  return runStatements(storage, job(postgresTx), batch);
}

async function runStatements<T>(storage: Storage, steps: JobSteps<T>, batch: JobBatch): Promise<T> {
  let step = steps.next();
  while (!step.done) {
    const statement = step.value;
    if (statement.kind === "sum" || statement.kind === "note") {
      batch.add(statement);
      step = steps.next();
    } else if (statement.kind === "insert") step = steps.next((await storage.get<{ id: number }>(statement.sql, statement.params))!.id);
    else step = steps.next(await storage[statement.kind](statement.sql, statement.params));
  }
  return step.value;
}

/**
 * Runs a job that only reads through `storage`, outside the write queue, awaiting each statement: one
 * reader's SQL for either engine, and for SQLite's synchronous callers through `runJobOnSqlite`. A
 * new tx each time, so nothing a reader keeps per tx (fixingFor's cache) outlives the call. A read job
 * has no sums or notes to give.
 */
export async function readJob<T>(storage: Storage, job: Job<T>): Promise<T> {
  const steps = job(yieldingTx(storage.engine));
  let step = steps.next();
  while (!step.done) {
    const statement = step.value;
    if (statement.kind === "sum" || statement.kind === "note") throw new Error("readJob ran a job that writes a sum or a note: queue it with ctx.writes.job");
    if (statement.kind === "insert") step = steps.next((await storage.get<{ id: number }>(statement.sql, statement.params))!.id);
    else step = steps.next(await storage[statement.kind](statement.sql, statement.params));
  }
  return step.value;
}
