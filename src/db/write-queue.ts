// Group commit: writes that arrive together share one transaction, and each caller's promise
// resolves only after that transaction is committed. A 2xx answered after `await write(...)`
// therefore means the data is on disk, while throughput stays that of batched inserts.
import type { Database, Statement } from "bun:sqlite";
import { CounterBacklog } from "./counter-backlog.ts";

// With WAL and synchronous=NORMAL a commit writes the WAL without fsync, but SQLite's automatic
// checkpoint (every 1000 pages, run inside whichever commit crosses the mark) copies pages back
// and fsyncs twice: under load that stalled one group commit in ~25 for milliseconds and cut
// throughput by half (bench/tracking.ts). A worker thread with its own connection checkpoints
// instead, so the copying and the fsyncs happen beside the request path. A checkpoint never
// affects durability against a crash: committed frames are in the WAL either way.
//
// The WAL starts over only when a checkpoint has caught up with no commit in between, which a
// worker racing a steady stream of commits rarely manages. So once the WAL is worth restarting
// (32 MB), the worker passes again at once while each pass shortens its lag; when it is at most a
// few frames behind it raises a shared flag and stands aside, and the queue, which sees the flag
// when its flush ends, finishes the checkpoint before the next batch: it copies a few dozen frames
// and fsyncs the database, ~4-6 ms. Told by a message instead, the queue learnt of it ~20 ms late
// and then copied ~250 frames, 5-7 ms, twice a second under redirect load (bench/tracking.ts).
// Finishing however far behind instead, at 128 MB, copied ~100 ms of frames and the next commit
// truncated the file, two stalls of 20-35 ms that set the redirect's p99.
// A WAL past the limit is finished however far behind the worker is.
const CHECKPOINTER_SOURCE = `
import { Database } from "bun:sqlite";
let db = null;
let timer = null;
let offered = null;
const pass = () => db.query("PRAGMA wal_checkpoint(PASSIVE)").get();
function checkpoint({ limitPages, restartPages, behindFrames }) {
  // The queue has yet to finish the restart offered last (holding the checkpoint lock would make it fail).
  if (Atomics.load(offered, 0) === 1) return;
  try {
    let result = pass();
    for (let tries = 0; tries < 8 && result.log >= restartPages && result.log - result.checkpointed > behindFrames; tries++) {
      const behind = result.log - result.checkpointed;
      result = pass();
      if (result.log - result.checkpointed >= behind) break;
    }
    if (result.log > limitPages || (result.log >= restartPages && result.log - result.checkpointed <= behindFrames)) Atomics.store(offered, 0, 1);
  } catch {}
}
self.onmessage = ({ data }) => {
  if (data.open) {
    offered = new Int32Array(data.offered);
    db = new Database(data.open);
    db.exec("PRAGMA busy_timeout = 5000");
    timer = setInterval(() => checkpoint(data), data.intervalMs);
  } else if (data.stop) {
    clearInterval(timer);
    if (db) db.close();
    db = null;
    // A Bun worker ends itself with process.exit (there is no self.close); the process goes on.
    process.exit(0);
  }
};
`;

class BackgroundCheckpointer {
  private readonly worker: Worker;
  /** Set to 1 by the worker when it offers the queue a restart, back to 0 once the queue has checkpointed. */
  private readonly offered = new Int32Array(new SharedArrayBuffer(4));

  constructor(path: string, intervalMs = 100, limitPages = 32_768, restartPages = 8192, behindFrames = 32) {
    this.worker = new Worker(URL.createObjectURL(new Blob([CHECKPOINTER_SOURCE], { type: "application/javascript" })));
    (this.worker as Worker & { unref(): void }).unref();
    this.worker.postMessage({ open: path, offered: this.offered.buffer, intervalMs, limitPages, restartPages: Math.min(restartPages, limitPages), behindFrames });
  }

  restartOffered(): boolean {
    return Atomics.load(this.offered, 0) === 1;
  }

  /** The queue has checkpointed: the worker goes on with its passes. */
  restartTaken(): void {
    Atomics.store(this.offered, 0, 0);
  }

  stop(): void {
    // The worker closes its connection and then itself.
    this.worker.postMessage({ stop: true });
  }
}

/** What a batch gathers from its writes and writes once, inside its transaction, just before COMMIT. */
export interface BatchWork {
  /** The write that just ran was released: keep what it added. */
  keep(): void;
  /** The write that just ran was rolled back: forget what it added. */
  drop(): void;
  /** A throw here rolls the whole batch back, like a failed COMMIT. */
  apply(db: Database): void;
}

interface RunningBatch {
  work: Map<symbol, BatchWork>;
  /** Where named counters put their sums, when the queue keeps a backlog. */
  backlog: CounterBacklog | null;
}

/** Set only while a queued write runs, so code can tell it is inside one. */
const runningBatches = new WeakMap<Database, RunningBatch>();

/** The batch whose write is running on `db`, or null outside a queued write. */
export function currentBatch(db: Database): RunningBatch | null {
  return runningBatches.get(db) ?? null;
}

export interface WriteQueueOptions {
  maxBatch?: number;
  /** How often the background checkpointer runs, and the WAL length it finishes however far behind. */
  checkpointIntervalMs?: number;
  walLimitPages?: number;
  /** Keep named counters in a backlog folded between batches (src/db/counter-backlog.ts): the serving process only. */
  counterBacklog?: boolean;
  foldAfterMs?: number;
  foldSliceMs?: number;
  /** When folded backlog rows are deleted under load (src/db/counter-backlog.ts): after this long with no busy batch, or once this many wait. */
  backlogIdleMs?: number;
  backlogMaxFoldedRows?: number;
}

interface PendingWrite {
  apply: (db: Database) => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export class WriteQueue {
  private pending: PendingWrite[] = [];
  private scheduled = false;
  private closed = false;
  private checkpointer: BackgroundCheckpointer | null = null;
  private checkpointerConsidered = false;
  private walResetScheduled = false;
  private readonly backlog: CounterBacklog | null;
  private foldTimer: Timer | null = null;
  // Prepared once: exec would compile them for every write or batch (~1 µs, and ~10 µs for BEGIN).
  private readonly begin: Statement;
  private readonly commit: Statement;
  private readonly savepoint: Statement;
  private readonly release: Statement;

  constructor(
    private readonly db: Database,
    private readonly options: WriteQueueOptions = {},
  ) {
    this.begin = db.prepare("BEGIN IMMEDIATE");
    this.commit = db.prepare("COMMIT");
    this.savepoint = db.prepare("SAVEPOINT queued_write");
    this.release = db.prepare("RELEASE queued_write");
    // Only the serving process keeps a backlog: one-shot commands write their counters at once.
    this.backlog = options.counterBacklog ? new CounterBacklog(db, options.foldAfterMs, options.foldSliceMs, options.backlogIdleMs, options.backlogMaxFoldedRows) : null;
  }

  /** On the first queued write, so one-shot commands that never use the queue start no thread. */
  private startCheckpointer(): void {
    this.checkpointerConsidered = true;
    const path = this.db.filename;
    if (!path || path === ":memory:" || this.db.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()?.journal_mode !== "wal") return;
    this.db.exec("PRAGMA wal_autocheckpoint = 0");
    // Once the WAL has been checkpointed and starts over, give back the disk a burst made it take.
    this.db.exec("PRAGMA journal_size_limit = 67108864");
    this.checkpointer = new BackgroundCheckpointer(path, this.options.checkpointIntervalMs, this.options.walLimitPages);
  }

  /** Runs `apply` inside the next group transaction; a throw rolls back only this write. */
  write<T>(apply: (db: Database) => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error("the write queue is closed"));
    if (!this.checkpointerConsidered) this.startCheckpointer();
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ apply, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /**
   * Resolves once every counter of the writes that resolved before the call is in its table, not
   * in the backlog: for readers of the counters that must see their own writes (reports, link totals).
   */
  settle(): Promise<void> {
    if (!this.backlog?.holdsSums()) return Promise.resolve();
    const settled = this.backlog.settled();
    if (this.foldTimer) clearTimeout(this.foldTimer);
    this.foldTimer = null;
    this.scheduleFold();
    return settled;
  }

  /** Commits everything queued so far, synchronously. */
  flush(): void {
    this.scheduled = false;
    if (this.closed) return;
    do this.commitBatch(this.pending.splice(0, this.options.maxBatch ?? 2000));
    while (this.pending.length > 0);
    if (this.checkpointer?.restartOffered()) this.scheduleWalReset();
    this.scheduleFold();
  }

  /** `foldAll`: fold the whole counter backlog in this batch (on close). */
  private commitBatch(batch: PendingWrite[], foldAll = false): void {
    const backlog = this.backlog;
    if (batch.length === 0 && !foldAll && !backlog?.workDue()) return;
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      this.begin.run();
      const running: RunningBatch = { work: new Map(), backlog };
      for (const item of batch) {
        this.savepoint.run();
        runningBatches.set(this.db, running);
        try {
          outcomes.push({ ok: true, value: item.apply(this.db) });
          runningBatches.delete(this.db);
          this.release.run();
          for (const each of running.work.values()) each.keep();
        } catch (error) {
          runningBatches.delete(this.db);
          this.db.exec("ROLLBACK TO queued_write");
          this.release.run();
          for (const each of running.work.values()) each.drop();
          outcomes.push({ ok: false, value: error });
        }
      }
      for (const each of running.work.values()) each.apply(this.db);
      backlog?.beforeCommit(this.db, foldAll, batch.length);
      this.commit.run();
    } catch (error) {
      runningBatches.delete(this.db);
      if (this.db.inTransaction) this.db.exec("ROLLBACK");
      backlog?.rolledBack();
      for (const item of batch) item.reject(error);
      return;
    }
    backlog?.committed();
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.value);
    });
  }

  /** Keeps folding the backlog when no writes come to carry it: at once mid-fold, else when the sums are due. */
  private scheduleFold(): void {
    if (this.closed || this.scheduled || this.foldTimer || !this.backlog) return;
    const dueIn = this.backlog.msUntilDue();
    if (dueIn === null) return;
    if (dueIn === 0) {
      this.scheduled = true;
      setImmediate(() => this.flush());
      return;
    }
    this.foldTimer = setTimeout(() => {
      this.foldTimer = null;
      if (!this.scheduled && !this.closed) this.flush();
    }, dueIn + 1);
    this.foldTimer.unref();
  }

  /** After the current batch's answers are out: finish the checkpoint with no commit racing it. */
  private scheduleWalReset(): void {
    if (this.walResetScheduled || this.closed) return;
    this.walResetScheduled = true;
    setImmediate(() => {
      this.walResetScheduled = false;
      if (this.closed) return;
      try {
        this.db.query("PRAGMA wal_checkpoint(PASSIVE)").get();
      } catch {
        // Should the checkpoint fail, the worker offers again while the WAL is still long.
      }
      this.checkpointer?.restartTaken();
    });
  }

  /** Flushes what is queued and refuses further writes (graceful shutdown). */
  close(): void {
    this.flush();
    if (this.backlog) this.commitBatch([], true);
    this.closed = true;
    if (this.foldTimer) clearTimeout(this.foldTimer);
    this.checkpointer?.stop();
  }
}
