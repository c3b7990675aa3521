// Group commit on PostgreSQL: write jobs that arrive together share one transaction, and each caller's
// promise resolves only once it is committed, as the SQLite write queue does (../write-queue.ts). A few
// batches are in flight at a time, each on a connection of its own: a batch spends most of its time
// waiting for the server's answers, one statement at a time, so a second one keeps the server busy
// meanwhile (bench/postgres.ts); the next batches gather while they run, so under load batches grow and
// commits stay few. A batch whose transaction fails (one job's statement failed, and PostgreSQL aborts the
// whole transaction) runs again one job per transaction, so only the failing job's caller sees an error.
// Each transaction writes its jobs' batch sums once per key just before COMMIT, and applies their write
// notes once committed (../storage/jobs.ts).
import type { SQL, TransactionSQL } from "bun";
import { JobBatch, runJob, type Job, type JobNote, type JobOptions, type JobQueue } from "../storage/jobs.ts";
import { postgresStorage } from "../storage/postgres.ts";

interface QueuedJob {
  job: Job<unknown>;
  locks: readonly string[];
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** The first key of the write queue's advisory locks (pg_advisory_xact_lock(int, int)): "bant". */
const LOCK_SPACE = 0x62616e74;
// unnest yields the array's elements in order, so the locks are taken in the order given.
const TAKE_LOCKS = "SELECT count(pg_advisory_xact_lock(?, id)) AS n FROM unnest(?::int[]) AS id";

/** A batch's lock ids, deduplicated and sorted: every batch taking them in one order is what rules out deadlocks. */
function lockIds(batch: readonly QueuedJob[]): number[] {
  const ids = new Set<number>();
  for (const item of batch) for (const key of item.locks) ids.add(Bun.hash.crc32(key) | 0);
  return [...ids].sort((a, b) => a - b);
}

export class PostgresWriteQueue implements JobQueue {
  private pending: QueuedJob[] = [];
  private readonly flushing = new Set<Promise<void>>();
  private closed = false;
  /** How many transactions committed batches, for tests and the bench. */
  commits = 0;

  /**
   * `notesFor`: what this node's in-memory readers (reports) key their write notes by
   * (src/reports/writes.ts); by default the connection. `announce`: the NOTIFYs that tell the other
   * nodes of a batch's notes, sent inside its transaction so they go out only if it commits.
   */
  constructor(
    private readonly sql: SQL,
    private readonly maxBatch = 1000,
    private readonly notesFor: object = sql,
    private readonly announce: (notes: readonly JobNote[]) => { channel: string; payload: string }[] = () => [],
    private readonly lanes = 3,
  ) {}

  job<T>(job: Job<T>, options: JobOptions = {}): Promise<T> {
    if (this.closed) return Promise.reject(new Error("the write queue is closed"));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ job, locks: options.locks ?? [], resolve: resolve as (value: unknown) => void, reject });
      if (this.flushing.size < this.lanes) {
        const flushing: Promise<void> = new Promise<void>((start) => setImmediate(start)).then(() => this.flush()).finally(() => this.flushing.delete(flushing));
        this.flushing.add(flushing);
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      let values: unknown[];
      try {
        values = await this.commit(batch);
      } catch {
        await this.runAlone(batch);
        continue;
      }
      batch.forEach((item, i) => item.resolve(values[i]));
    }
  }

  /** One transaction: the jobs in order, then their sums; their notes once it is committed. */
  private async commit(batch: QueuedJob[]): Promise<unknown[]> {
    const effects = new JobBatch();
    const values = await this.sql.begin(async (tx: TransactionSQL) => {
      const storage = postgresStorage(tx, true);
      const locks = lockIds(batch);
      if (locks.length > 0) await storage.run(TAKE_LOCKS, [LOCK_SPACE, `{${locks.join(",")}}`]);
      const values: unknown[] = [];
      for (const item of batch) values.push(await runJob(storage, item.job, effects));
      await effects.writeSums(storage);
      for (const { channel, payload } of this.announce(effects.notes)) await storage.notify!(channel, payload);
      return values;
    });
    this.commits++;
    effects.applyNotes(this.notesFor);
    return values;
  }

  private async runAlone(batch: QueuedJob[]): Promise<void> {
    for (const item of batch) {
      try {
        item.resolve((await this.commit([item]))[0]);
      } catch (error) {
        item.reject(error);
      }
    }
  }

  /** Every job resolved so far is committed with its sums: nothing waits in a backlog here. */
  async settle(): Promise<void> {}

  /** Commits what is queued, then refuses further jobs. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing.size > 0) await Promise.all(this.flushing);
  }
}
