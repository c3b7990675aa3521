// Counters a group-commit batch adds up in memory and writes once per key just before its COMMIT, in
// the same transaction: 32 clicks on one link cost one upsert, and a 2xx still means the sums are on disk.
// Named counters go further when the queue keeps a backlog: the batch's sums are appended there and
// folded into the counters later (src/db/counter-backlog.ts).
import type { Database, SQLQueryBindings } from "bun:sqlite";
import { registerDeferredCounter, type CounterBacklog, type DeferredCounter } from "./counter-backlog.ts";
import { currentBatch, type BatchWork } from "./write-queue.ts";

interface Entry {
  key: string;
  params: SQLQueryBindings[];
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
    for (const { key, params, values } of this.kept.values()) {
      if (backlog && sums.name) backlog.stage(sums as DeferredCounter, key, params, values);
      else sums.write(db, params, values);
    }
  }
}

export class BatchSums {
  private readonly id = Symbol();

  /**
   * `write` stores one key's values (an upsert that adds them); `merge` folds a later write's values
   * into an earlier one's for the same key (a sum, or a max for a timestamp). A `name` lets the
   * counter wait in the queue's backlog; `params` must then be JSON (strings, numbers, null) and
   * the key passed to `add` exactly `params.join("\u0000")`, as the backlog rebuilds it so after a crash.
   */
  constructor(
    readonly write: (db: Database, params: SQLQueryBindings[], values: number[]) => void,
    readonly merge: (into: number[], more: number[]) => void,
    readonly name?: string,
  ) {
    if (name) registerDeferredCounter(this as DeferredCounter);
  }

  /** Inside a queued write: added to the batch's sums. Anywhere else: written at once. */
  add(db: Database, key: string, params: SQLQueryBindings[], values: number[]): void {
    const batch = currentBatch(db);
    if (!batch) return this.write(db, params, values);
    let accumulator = batch.work.get(this.id) as Accumulator | undefined;
    if (!accumulator) batch.work.set(this.id, (accumulator = new Accumulator(this, batch.backlog)));
    accumulator.add({ key, params, values });
  }
}
