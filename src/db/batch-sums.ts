// Counters a group-commit batch adds up in memory and writes once per key just before its COMMIT, in
// the same transaction: 32 clicks on one link cost one upsert, and a 2xx still means the sums are on disk.
// Named counters go further when the queue keeps a backlog: the batch's sums are appended there and
// folded into the counters later (src/db/counter-backlog.ts). This is SQLite's side of a job's `tx.sum`;
// PostgreSQL's queue sums a batch's keys itself and writes each with the same `write` (./storage/jobs.ts).
import type { Database } from "bun:sqlite";
import { registerDeferredCounter, type CounterBacklog, type DeferredCounter } from "./counter-backlog.ts";
import { runJobOnSqlite, type JobSums, type JobSteps, type JobTx } from "./storage/jobs.ts";
import type { SqlValue } from "./storage/storage.ts";
import { currentBatch, type BatchWork } from "./write-queue.ts";

interface Entry {
  key: string;
  params: SqlValue[];
  values: number[];
}

class Accumulator implements BatchWork {
  private readonly kept = new Map<string, Entry>();
  private pending: Entry[] = [];

  constructor(
    private readonly sums: BatchSums,
    private readonly backlog: CounterBacklog | null,
  ) {}

  add(entry: Entry): void {
    this.pending.push(entry);
  }

  keep(): void {
    for (const entry of this.pending) {
      const known = this.kept.get(entry.key);
      if (known) this.sums.merge(known.values, entry.values);
      else this.kept.set(entry.key, entry);
    }
    this.pending = [];
  }

  drop(): void {
    this.pending = [];
  }

  apply(db: Database): void {
    const { sums, backlog } = this;
    const deferred = sums.deferred;
    for (const { key, params, values } of this.kept.values()) {
      if (backlog && deferred) backlog.stage(deferred, key, params, values);
      else sums.writeOnSqlite(db, params, values);
    }
  }
}

export class BatchSums implements JobSums {
  private readonly id = Symbol();
  /** The counter as the backlog knows it, when named. */
  readonly deferred: DeferredCounter | null;

  /**
   * `write` stores one key's values (an upsert that adds them), as job statements so either engine
   * runs it; `merge` folds a later write's values into an earlier one's for the same key (a sum, or
   * a max for a timestamp). A `name` lets the counter wait in the SQLite queue's backlog; `params`
   * must then be JSON (strings, numbers, null) and the key passed to `add` exactly
   * `params.join("\u0000")`, as the backlog rebuilds it so after a crash.
   */
  constructor(
    readonly write: (tx: JobTx, params: readonly SqlValue[], values: number[]) => JobSteps<void>,
    readonly merge: (into: number[], more: number[]) => void,
    name?: string,
    readonly writeAll?: JobSums["writeAll"],
  ) {
    this.deferred = name ? { name, write: (db, params, values) => this.writeOnSqlite(db, params as SqlValue[], values), merge } : null;
    if (this.deferred) registerDeferredCounter(this.deferred);
  }

  writeOnSqlite(db: Database, params: readonly SqlValue[], values: number[]): void {
    runJobOnSqlite(db, (tx) => this.write(tx, params, values));
  }

  /** Inside a queued write: added to the batch's sums. Anywhere else: written at once. */
  add(db: Database, key: string, params: SqlValue[], values: number[]): void {
    const batch = currentBatch(db);
    if (!batch) return this.writeOnSqlite(db, params, values);
    let accumulator = batch.work.get(this.id) as Accumulator | undefined;
    if (!accumulator) batch.work.set(this.id, (accumulator = new Accumulator(this, batch.backlog)));
    accumulator.add({ key, params, values });
  }
}
