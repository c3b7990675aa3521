// Counters a group-commit batch adds up in memory and writes once per key just before its COMMIT, in
// the same transaction: 32 clicks on one link cost one upsert, and a 2xx still means the sums are on disk.
import type { Database, SQLQueryBindings } from "bun:sqlite";
import { currentBatch, type BatchWork } from "./write-queue.ts";

interface Entry {
  key: string;
  params: SQLQueryBindings[];
  values: number[];
}

class Accumulator implements BatchWork {
  private readonly kept = new Map<string, Entry>();
  private pending: Entry[] = [];

  constructor(private readonly sums: BatchSums) {}

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
    for (const { params, values } of this.kept.values()) this.sums.write(db, params, values);
  }
}

export class BatchSums {
  private readonly id = Symbol();

  /**
   * `write` stores one key's values (an upsert that adds them); `merge` folds a later write's values
   * into an earlier one's for the same key (a sum, or a max for a timestamp).
   */
  constructor(
    readonly write: (db: Database, params: SQLQueryBindings[], values: number[]) => void,
    readonly merge: (into: number[], more: number[]) => void,
  ) {}

  /** Inside a queued write: added to the batch's sums. Anywhere else: written at once. */
  add(db: Database, key: string, params: SQLQueryBindings[], values: number[]): void {
    const batch = currentBatch(db);
    if (!batch) return this.write(db, params, values);
    let accumulator = batch.get(this.id) as Accumulator | undefined;
    if (!accumulator) batch.set(this.id, (accumulator = new Accumulator(this)));
    accumulator.add({ key, params, values });
  }
}
