// Write jobs: the writes that share a group commit, one code for both engines. A job is a generator
// that yields its statements and gets each one's answer back: `const row = yield* tx.get<Row>(sql, params)`.
// On SQLite the write queue runs it to its end at once, inside its synchronous batch transaction, so no
// other code runs between its statements and the batch keeps SQLite's speed (src/db/write-queue.ts); on
// PostgreSQL each answer is awaited (src/db/postgres/write-queue.ts).
//
// A job touches only the database: a batch that fails on PostgreSQL is run again one job at a time, so
// what a job does in memory belongs after its promise resolves. A statement that fails ends the job (the
// job cannot catch it: PostgreSQL aborts the transaction), so "insert unless present" is ON CONFLICT.
import type { Database, SQLQueryBindings } from "bun:sqlite";
import { prepared } from "../../tracking/statements.ts";
import type { Engine, SqlValue, Storage } from "./storage.ts";

export interface JobStatement {
  kind: "all" | "get" | "run";
  sql: string;
  params: readonly SqlValue[];
}

export interface JobTx {
  readonly engine: Engine;
  all<Row>(sql: string, params?: readonly SqlValue[]): Generator<JobStatement, Row[], unknown>;
  get<Row>(sql: string, params?: readonly SqlValue[]): Generator<JobStatement, Row | null, unknown>;
  run(sql: string, params?: readonly SqlValue[]): Generator<JobStatement, { changes: number }, unknown>;
}

export type Job<T> = (tx: JobTx) => Generator<JobStatement, T, unknown>;

/** Where jobs are queued for the next group commit: the SQLite write queue, or PostgreSQL's. */
export interface JobQueue {
  /** Resolves once the job's batch is committed; rejects with the job's own error, its batch committed without it. */
  job<T>(job: Job<T>, options?: { bulk?: boolean }): Promise<T>;
}

function jobTx(engine: Engine): JobTx {
  return {
    engine,
    *all<Row>(sql: string, params: readonly SqlValue[] = []): Generator<JobStatement, Row[], unknown> {
      return (yield { kind: "all", sql, params }) as Row[];
    },
    *get<Row>(sql: string, params: readonly SqlValue[] = []): Generator<JobStatement, Row | null, unknown> {
      return (yield { kind: "get", sql, params }) as Row | null;
    },
    *run(sql: string, params: readonly SqlValue[] = []): Generator<JobStatement, { changes: number }, unknown> {
      return (yield { kind: "run", sql, params }) as { changes: number };
    },
  };
}

const sqliteTx = jobTx("sqlite");
const postgresTx = jobTx("postgres");

/** Runs a job to its end on SQLite, synchronously: inside a queued write. */
export function runJobOnSqlite<T>(db: Database, job: Job<T>): T {
  const steps = job(sqliteTx);
  let step = steps.next();
  while (!step.done) {
    const { kind, sql, params } = step.value;
    const statement = prepared(db, sql);
    const bindings = params as SQLQueryBindings[];
    step = steps.next(kind === "all" ? statement.all(...bindings) : kind === "get" ? statement.get(...bindings) : { changes: statement.run(...bindings).changes });
  }
  return step.value;
}

/** Runs a job through a storage (inside a PostgreSQL transaction), awaiting each statement. */
export async function runJob<T>(storage: Storage, job: Job<T>): Promise<T> {
  const steps = job(storage.engine === "sqlite" ? sqliteTx : postgresTx);
  let step = steps.next();
  while (!step.done) {
    const { kind, sql, params } = step.value;
    step = steps.next(await storage[kind](sql, params));
  }
  return step.value;
}
