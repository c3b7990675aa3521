// Group commit: writes that arrive together share one transaction, and each caller's promise
// resolves only after that transaction is committed. A 2xx answered after `await write(...)`
// therefore means the data is on disk, while throughput stays that of batched inserts.
import type { Database, Statement } from "bun:sqlite";
import { CounterBacklog } from "./counter-backlog.ts";
import { runJobOnSqlite, type Job, type JobOptions, type JobQueue } from "./storage/jobs.ts";

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
// few frames behind (or the WAL is past its limit) it offers a restart through a shared flag. The
// queue, which sees the flag when its flush ends, holds its next commits, and the worker finishes
// the checkpoint with no commit racing it: the frames of the last batch and an fsync, ~4-6 ms under
// redirect load, during which only writes wait and the event loop goes on. The queue finished it
// itself before: a batch of a currency re-conversion writes a few thousand frames, and copying them
// held the event loop for 80-200 ms. Told by a message instead of the flag, the queue learnt of an
// offer ~20 ms late, after ~250 more frames. A hold lasts at most `MAX_HOLD_MS`: past it, commits
// race the worker again and the restart waits for a later offer. A WAL past its limit is offered
// at once, however far behind the worker is, and the queue holds until it has started over.
//
// The disk: a bulk commit (a chunk of a currency re-conversion, thousands of frames) that appends
// to the WAL while the worker fsyncs the database (its own passes fsync too, once they copy the whole
// WAL) waits in the kernel for that fsync, 40-100 ms, and holds the event loop all that time. So the
// two take turns through a shared lock: the worker waits for a bulk commit in progress before a pass
// or an fsync, and the queue, finding the worker at one, holds a batch with a bulk write while the
// event loop goes on. Small commits (redirects, collect) still race the worker: taking turns there
// cost a sixth of redirect throughput and doubled its p99 (bench/tracking.ts).
const CHECKPOINTER_SOURCE = `
import { Database } from "bun:sqlite";
import { openSync, fsyncSync, closeSync } from "node:fs";
const IDLE = 0, OFFERED = 1, HOLDING = 2, OFFERED_PAST_LIMIT = 3;
let db = null;
let path = null;
let timer = null;
let state = null;
/** The WAL's length when a checkpoint last copied all of it: with no commit since, the next one restarts it by itself. */
let finishedAt = -1;
const DISK_FREE = 0, DISK_COMMITTING = 1, DISK_SYNCING = 2;
/** Runs io once the queue is not committing a bulk write, and keeps it from committing one meanwhile (see "The disk" above). */
function holdingDisk(io) {
  while (Atomics.compareExchange(state, 1, DISK_FREE, DISK_SYNCING) !== DISK_FREE) Atomics.wait(state, 1, DISK_COMMITTING, 2);
  try {
    return io();
  } finally {
    Atomics.store(state, 1, DISK_FREE);
  }
}
const pass = () => holdingDisk(() => db.query("PRAGMA wal_checkpoint(PASSIVE)").get());
function checkpoint({ limitPages, restartPages, behindFrames, answerMs }) {
  // Still finishing the last restart (a hold the queue gave up on).
  if (Atomics.load(state, 0) !== IDLE) return;
  try {
    let result = pass();
    for (let tries = 0; tries < 8 && result.log >= restartPages && result.log - result.checkpointed > behindFrames; tries++) {
      const behind = result.log - result.checkpointed;
      result = pass();
      if (result.log - result.checkpointed >= behind) break;
    }
    const pastLimit = result.log > limitPages;
    if (result.log === finishedAt || !(pastLimit || (result.log >= restartPages && result.log - result.checkpointed <= behindFrames))) return;
    if (!pastLimit) {
      // A pass fsyncs the database only when it copies the whole WAL, which the passes above, racing
      // commits, rarely did: synced here first, the finishing pass writes out only what came since.
      // Twice, as the commits of a long first sync (a bulk rewrite's WAL) are still a lot to sync.
      for (let round = 0; round < 2; round++) {
        syncFile(path + "-wal");
        syncFile(path);
        result = pass();
      }
    }
    // Past the limit the queue waits for the restart however long it takes, so the WAL stays bounded.
    const offer = pastLimit ? OFFERED_PAST_LIMIT : OFFERED;
    Atomics.store(state, 0, offer);
    // The queue answers when its next flush starts; with no writes coming the offer is withdrawn.
    Atomics.wait(state, 0, offer, answerMs);
    if (Atomics.compareExchange(state, 0, offer, IDLE) === offer) {
      if (result.log === result.checkpointed) finishedAt = result.log;
      return;
    }
    try {
      const finished = pass();
      if (finished.log === finished.checkpointed) finishedAt = finished.log;
    } finally {
      Atomics.store(state, 0, IDLE);
    }
  } catch {}
}
function syncFile(name) {
  holdingDisk(() => {
    const fd = openSync(name, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  });
}
self.onmessage = ({ data }) => {
  if (data.open) {
    path = data.open;
    state = new Int32Array(data.state);
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

const enum RestartState {
  Idle = 0,
  /** The worker has caught up and waits for the queue to hold its commits. */
  Offered = 1,
  /** The queue holds its commits while the worker finishes the checkpoint. */
  Holding = 2,
  /** The WAL is past its limit: the queue holds its commits until the restart is done. */
  OfferedPastLimit = 3,
}

const enum Disk {
  Free = 0,
  Committing = 1,
  Syncing = 2,
}

/** The longest the queue holds its commits for a WAL restart within its limit; past the limit, `MAX_HOLD_PAST_LIMIT_MS`. Only a worker that stopped answering takes this long. */
const MAX_HOLD_MS = 1000;
/** The longest the queue holds a batch with a bulk write for the worker's pass or fsync; then it commits beside it. */
const MAX_DISK_WAIT_MS = 1000;
const MAX_HOLD_PAST_LIMIT_MS = 30_000;

class BackgroundCheckpointer {
  private readonly worker: Worker;
  /** [0]: the WAL restart's state; [1]: who has the disk (see "The disk" above). */
  private readonly state = new Int32Array(new SharedArrayBuffer(8));

  constructor(path: string, intervalMs = 100, limitPages = 32_768, restartPages = 8192, behindFrames = 32) {
    this.worker = new Worker(URL.createObjectURL(new Blob([CHECKPOINTER_SOURCE], { type: "application/javascript" })));
    (this.worker as Worker & { unref(): void }).unref();
    this.worker.postMessage({ open: path, state: this.state.buffer, intervalMs, limitPages, restartPages: Math.min(restartPages, limitPages), behindFrames, answerMs: intervalMs });
  }

  /** Takes a pending offer: the caller holds its commits until `finishing()` turns false, at most the time returned (null: no offer). */
  hold(): number | null {
    for (const [offer, longest] of [[RestartState.Offered, MAX_HOLD_MS], [RestartState.OfferedPastLimit, MAX_HOLD_PAST_LIMIT_MS]] as const) {
      if (Atomics.compareExchange(this.state, 0, offer, RestartState.Holding) !== offer) continue;
      Atomics.notify(this.state, 0);
      return longest;
    }
    return null;
  }

  finishing(): boolean {
    return Atomics.load(this.state, 0) === RestartState.Holding;
  }

  /** Takes the disk for a commit, unless the worker is at a pass or an fsync. */
  takeDisk(): boolean {
    return Atomics.compareExchange(this.state, 1, Disk.Free, Disk.Committing) === Disk.Free;
  }

  releaseDisk(): void {
    Atomics.store(this.state, 1, Disk.Free);
    Atomics.notify(this.state, 1);
  }

  syncing(): boolean {
    return Atomics.load(this.state, 1) === Disk.Syncing;
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
  bulk: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export class WriteQueue implements JobQueue {
  private pending: PendingWrite[] = [];
  private scheduled = false;
  private closed = false;
  private checkpointer: BackgroundCheckpointer | null = null;
  private checkpointerConsidered = false;
  /** Set while the worker finishes a checkpoint that restarts the WAL: writes wait in `pending`. */
  private holding = false;
  /** How many times commits were held for a WAL restart, and the longest hold (bench/fx.ts). */
  readonly restartHolds = { count: 0, longestMs: 0 };
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

  /**
   * Runs `apply` inside the next group transaction; a throw rolls back only this write. `bulk`: it
   * writes thousands of rows, and its batch takes turns at the disk with the checkpointer.
   */
  write<T>(apply: (db: Database) => T, options?: { bulk?: boolean }): Promise<T> {
    if (this.closed) return Promise.reject(new Error("the write queue is closed"));
    if (!this.checkpointerConsidered) this.startCheckpointer();
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ apply, bulk: options?.bulk === true, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** A write job (./storage/jobs.ts), the code PostgreSQL's queue runs too, in the next group transaction. */
  job<T>(job: Job<T>, options?: JobOptions): Promise<T> {
    return this.write((db) => runJobOnSqlite(db, job), options);
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

  /**
   * Commits everything queued so far, synchronously, unless a WAL restart is offered, or a bulk write
   * is queued while the worker is at the disk: then once it is done (`force`: however long it has been).
   */
  flush(force = false): void {
    this.scheduled = false;
    if (this.closed || this.holding) return;
    // A storage transaction (./storage/sqlite.ts) is open across awaits: a batch now would join it.
    if (this.db.inTransaction) return this.holdWhile(() => this.db.inTransaction, Number.POSITIVE_INFINITY);
    const checkpointer = this.checkpointer;
    // Before the batch: the worker that offered is then a few frames behind, not a batch's worth.
    const longest = checkpointer?.hold() ?? null;
    if (longest !== null) {
      return this.holdWhile(() => checkpointer!.finishing(), longest, (ms) => {
        this.restartHolds.count++;
        this.restartHolds.longestMs = Math.max(this.restartHolds.longestMs, ms);
      });
    }
    const bulk = checkpointer !== null && this.pending.some((write) => write.bulk);
    const tookDisk = bulk && checkpointer.takeDisk();
    if (bulk && !tookDisk && !force) return this.holdWhile(() => checkpointer.syncing(), MAX_DISK_WAIT_MS, undefined, true);
    try {
      this.commitPending();
    } finally {
      if (tookDisk) checkpointer!.releaseDisk();
    }
    this.scheduleFold();
  }

  private commitPending(): void {
    do this.commitBatch(this.pending.splice(0, this.options.maxBatch ?? 2000));
    while (this.pending.length > 0);
  }

  /**
   * Commits nothing while `busy()` (or until `longestMs` has passed), then flushes what waited; the
   * event loop runs meanwhile. `force`: that flush commits even if the worker is still at the disk.
   */
  private holdWhile(busy: () => boolean, longestMs: number, held?: (ms: number) => void, force = false): void {
    this.holding = true;
    const since = performance.now();
    const poll = () => {
      if (this.closed) return;
      const waited = performance.now() - since;
      if (busy() && waited < longestMs) {
        setTimeout(poll, 1);
        return;
      }
      this.holding = false;
      held?.(waited);
      if (this.pending.length > 0) {
        this.scheduled = true;
        setImmediate(() => this.flush(force && waited >= longestMs));
      } else this.scheduleFold();
    };
    setTimeout(poll, 1);
  }

  /** `foldAll`: fold the whole counter backlog in this batch (on close). */
  private commitBatch(batch: PendingWrite[], foldAll = false): void {
    const backlog = this.backlog;
    if (batch.length === 0 && !foldAll && !backlog?.workDue()) return;
    const outcomes: { ok: boolean; value: unknown }[] = [];
    let began = false;
    try {
      this.begin.run();
      began = true;
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
      // Only its own: a storage transaction open at close (./storage/sqlite.ts) is not the batch's to undo.
      if (began && this.db.inTransaction) this.db.exec("ROLLBACK");
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

  /**
   * Copies the whole WAL into the database and truncates it to zero bytes, with the disk taken from
   * the checkpointer: beside one of its passes the truncation finds the checkpoint lock held and
   * gives up. False when the worker kept the disk for `MAX_DISK_WAIT_MS` or a reader kept the WAL.
   */
  async truncateWal(): Promise<boolean> {
    const checkpointer = this.checkpointer;
    const since = performance.now();
    while (checkpointer && !checkpointer.takeDisk()) {
      if (performance.now() - since >= MAX_DISK_WAIT_MS) return false;
      await Bun.sleep(1);
    }
    try {
      return this.db.query<{ busy: number }, []>("PRAGMA wal_checkpoint(TRUNCATE)").get()?.busy === 0;
    } finally {
      checkpointer?.releaseDisk();
    }
  }

  /** Flushes what is queued and refuses further writes (graceful shutdown). */
  close(): void {
    // Whatever is held or offered: commits racing the worker's checkpoint are safe, only the restart may wait.
    this.holding = false;
    this.scheduled = false;
    this.commitPending();
    if (this.backlog) this.commitBatch([], true);
    this.closed = true;
    if (this.foldTimer) clearTimeout(this.foldTimer);
    this.checkpointer?.stop();
  }
}
