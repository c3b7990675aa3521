// Write jobs: the writes that share a group commit, one code for both engines. A job is a generator
// that yields its statements and gets each one's answer back: `const row = yield* tx.get<Row>(sql, params)`.
// On SQLite the write queue runs it to its end at once, inside its synchronous batch transaction, so no
// other code runs between its statements and the batch keeps SQLite's speed (src/db/write-queue.ts); on
// PostgreSQL each answer is awaited (src/db/postgres/write-queue.ts).
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
import { statementFor } from "./sqlite.ts";
import type { Engine, SqlValue, Storage } from "./storage.ts";

/** A counter summed per batch and key (src/db/batch-sums.ts). */
export interface JobSums {
  /** On SQLite: inside a queued write, into the batch's sums; anywhere else, written at once. */
  add(db: Database, key: string, params: SqlValue[], values: number[]): void;
  /** Folds a later job's values for the same key into an earlier one's. */
  merge(into: number[], more: number[]): void;
  /** The upsert that adds one key's values to its table. */
  write(tx: JobTx, params: readonly SqlValue[], values: number[]): JobSteps<void>;
}

/**
 * Tells in-memory readers that something was written (src/reports/writes.ts); `source` is what they
 * read through: the Database on SQLite, the queue's `notesFor` on PostgreSQL.
 */
export type WriteNote = (source: object, projectId: string, ts: number) => void;

export type JobStatement =
  | { kind: "all" | "get" | "run" | "insert"; sql: string; params: readonly SqlValue[] }
  | { kind: "sum"; sums: JobSums; key: string; params: SqlValue[]; values: number[] }
  | { kind: "note"; note: WriteNote; projectId: string; ts: number }
  | { kind: "sqlite"; work: (db: Database) => unknown };

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
  /**
   * Code not on the storage interface yet (the payments ledger), with SQLite's connection, inside the
   * batch. On PostgreSQL it fails the job: call it only where PostgreSQL has nothing for it to do.
   */
  sqliteOnly<T>(work: (db: Database) => T): JobSteps<T>;
}

/** What a job, or a helper it calls with `yield*`, is: its statements, then its value. */
export type JobSteps<T> = Generator<JobStatement, T, unknown>;

export type Job<T> = (tx: JobTx) => JobSteps<T>;

/** Where jobs are queued for the next group commit: the SQLite write queue, or PostgreSQL's. */
export interface JobQueue {
  /** Resolves once the job's batch is committed; rejects with the job's own error, its batch committed without it. */
  job<T>(job: Job<T>, options?: { bulk?: boolean }): Promise<T>;
}

/**
 * What `yield* tx.get(…)` and the other kinds delegate to: an iterator that hands out its statement,
 * then the answer it is sent. Built by hand, as a generator for every statement cost the journey about
 * 3 µs a hit more than the synchronous code before jobs (bench/tracking.ts collect).
 */
class Step {
  done = false;
  value: unknown;
  private sent = false;

  constructor(statement: JobStatement) {
    this.value = statement;
  }

  [Symbol.iterator](): this {
    return this;
  }

  next(answer?: unknown): this {
    if (this.sent) {
      this.done = true;
      this.value = answer;
    } else this.sent = true;
    return this;
  }
}

const step = <T>(statement: JobStatement) => new Step(statement) as unknown as JobSteps<T>;

function jobTx(engine: Engine): JobTx {
  return {
    engine,
    all: <Row>(sql: string, params: readonly SqlValue[] = []) => step<Row[]>({ kind: "all", sql, params }),
    get: <Row>(sql: string, params: readonly SqlValue[] = []) => step<Row | null>({ kind: "get", sql, params }),
    run: (sql: string, params: readonly SqlValue[] = []) => step<{ changes: number }>({ kind: "run", sql, params }),
    insert: (sql: string, params: readonly SqlValue[]) => step<number>({ kind: "insert", sql: engine === "postgres" ? returningId(sql) : sql, params }),
    sum: (sums: JobSums, key: string, params: SqlValue[], values: number[]) => step<void>({ kind: "sum", sums, key, params, values }),
    note: (note: WriteNote, projectId: string, ts = 0) => step<void>({ kind: "note", note, projectId, ts }),
    sqliteOnly: <T>(work: (db: Database) => T) => step<T>({ kind: "sqlite", work }),
  };
}

const withReturning = new Map<string, string>();
const returningId = (sql: string) => withReturning.get(sql) ?? withReturning.set(sql, `${sql} RETURNING id`).get(sql)!;

const sqliteTx = jobTx("sqlite");
const postgresTx = jobTx("postgres");
const txOn = (storage: Storage) => (storage.engine === "sqlite" ? sqliteTx : postgresTx);

/** Runs a job to its end on SQLite, synchronously: inside a queued write. */
export function runJobOnSqlite<T>(db: Database, job: Job<T>): T {
  const steps = job(sqliteTx);
  let step = steps.next();
  while (!step.done) {
    const statement = step.value;
    switch (statement.kind) {
      case "get":
        step = steps.next(statementFor(db, statement.sql).get(...(statement.params as SQLQueryBindings[])));
        break;
      case "run":
        step = steps.next({ changes: statementFor(db, statement.sql).run(...(statement.params as SQLQueryBindings[])).changes });
        break;
      case "all":
        step = steps.next(statementFor(db, statement.sql).all(...(statement.params as SQLQueryBindings[])));
        break;
      case "insert":
        step = steps.next(Number(statementFor(db, statement.sql).run(...(statement.params as SQLQueryBindings[])).lastInsertRowid));
        break;
      case "sum":
        statement.sums.add(db, statement.key, statement.params, statement.values);
        step = steps.next();
        break;
      case "note":
        statement.note(db, statement.projectId, statement.ts);
        step = steps.next();
        break;
      case "sqlite":
        step = steps.next(statement.work(db));
        break;
    }
  }
  return step.value;
}

interface SummedKey {
  params: readonly SqlValue[];
  values: number[];
}

/**
 * One PostgreSQL batch's sums and notes. Kept per attempt: a batch that fails is dropped whole with its
 * transaction, and each job run again alone gets a batch of its own.
 */
export class JobBatch {
  private readonly sums = new Map<JobSums, Map<string, SummedKey>>();
  private readonly notes: Extract<JobStatement, { kind: "note" }>[] = [];

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
      for (const { params, values } of keys.values()) await runStatements(storage, sums.write(txOn(storage), params, values), this);
    }
  }

  /**
   * Once committed. Only this node's readers hear of it: the step that lets reports on every node see
   * every node's writes within 10 s (SPEC §11) sends these notes to the other nodes through NOTIFY.
   */
  applyNotes(source: object): void {
    for (const { note, projectId, ts } of this.notes) note(source, projectId, ts);
  }
}

/** Runs a job through a storage inside a PostgreSQL transaction, awaiting each statement; its sums and notes go to `batch`. */
export function runJob<T>(storage: Storage, job: Job<T>, batch: JobBatch): Promise<T> {
  return runStatements(storage, job(txOn(storage)), batch);
}

async function runStatements<T>(storage: Storage, steps: JobSteps<T>, batch: JobBatch): Promise<T> {
  let step = steps.next();
  while (!step.done) {
    const statement = step.value;
    if (statement.kind === "sqlite") throw new Error("this write is not on PostgreSQL yet: it needs SQLite's connection");
    if (statement.kind === "sum" || statement.kind === "note") {
      batch.add(statement);
      step = steps.next();
    } else if (statement.kind === "insert") step = steps.next((await storage.get<{ id: number }>(statement.sql, statement.params))!.id);
    else step = steps.next(await storage[statement.kind](statement.sql, statement.params));
  }
  return step.value;
}
