// Group commit: writes that arrive together share one transaction, and each caller's promise
// resolves only after that transaction is committed. A 2xx answered after `await write(...)`
// therefore means the data is on disk, while throughput stays that of batched inserts.
import type { Database } from "bun:sqlite";

interface PendingWrite {
  apply: (db: Database) => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export class WriteQueue {
  private pending: PendingWrite[] = [];
  private scheduled = false;
  private closed = false;

  constructor(
    private readonly db: Database,
    private readonly maxBatch = 2000,
  ) {}

  /** Runs `apply` inside the next group transaction; a throw rolls back only this write. */
  write<T>(apply: (db: Database) => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error("the write queue is closed"));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ apply, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits everything queued so far, synchronously. */
  flush(): void {
    this.scheduled = false;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      const outcomes: { ok: boolean; value: unknown }[] = [];
      try {
        this.db.exec("BEGIN IMMEDIATE");
        for (const item of batch) {
          this.db.exec("SAVEPOINT queued_write");
          try {
            outcomes.push({ ok: true, value: item.apply(this.db) });
            this.db.exec("RELEASE queued_write");
          } catch (error) {
            this.db.exec("ROLLBACK TO queued_write");
            this.db.exec("RELEASE queued_write");
            outcomes.push({ ok: false, value: error });
          }
        }
        this.db.exec("COMMIT");
      } catch (error) {
        if (this.db.inTransaction) this.db.exec("ROLLBACK");
        for (const item of batch) item.reject(error);
        continue;
      }
      batch.forEach((item, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) item.resolve(outcome.value);
        else item.reject(outcome.value);
      });
    }
  }

  /** Flushes what is queued and refuses further writes (graceful shutdown). */
  close(): void {
    this.flush();
    this.closed = true;
  }
}
