// Hot counters (hourly rollups, link totals) folded in the background instead of in every group commit.
//
// With traffic spread over thousands of links, upserting a batch's counters in its own commit
// rewrites a few hundred random pages every few milliseconds: two thirds of a click's cost
// (bench/tracking.ts). Instead a commit appends one backlog row holding its batch's sums, in the same
// transaction as the events they count, so a 2xx still means the counts are on disk. The write queue
// then folds the backlog into the counters a millisecond at a time between batches, in key order, so
// each counter row is rewritten once per fold however many batches touched it, and each slice
// rewrites a few neighbouring pages rather than a page per key. Readers that must see their own
// writes (dashboard pages, reports, link totals) wait for `settled()` first.
//
// Exactly once, across crashes: a fold is a generation, the sums of the backlog rows after the last
// fold up to an id, in key order. `counter_fold` records how many of its keys are in the counters,
// in the transaction that puts them there, and the transaction that applies the last key moves
// `folded_through` past the generation's rows, which are then deleted when the queue is light (see
// `beforeCommit`). On start,
// `recoverCounterBacklog` rebuilds an interrupted generation from its rows, which determine it
// exactly (same keys, so the same order; sums and maxima do not depend on the order of the rows),
// and finishes it.
import type { Database, SQLQueryBindings, Statement } from "bun:sqlite";

/** A named counter whose sums may wait in the backlog: how to add a key's values to its table, and how to merge two sums. */
export interface DeferredCounter {
  readonly name: string;
  write(db: Database, params: SQLQueryBindings[], values: number[]): void;
  merge(into: number[], more: number[]): void;
}

interface Entry {
  counter: DeferredCounter;
  /** The params joined by NUL: names the counter row and sorts the fold. */
  key: string;
  params: SQLQueryBindings[];
  values: number[];
}

interface Generation {
  upTo: number;
  entries: Entry[];
  applied: number;
}

type StoredSums = [name: string, params: SQLQueryBindings[], values: number[]][];

const counters = new Map<string, DeferredCounter>();

/** Counters are registered by name when their module loads, so a backlog row can always be folded. */
export function registerDeferredCounter(counter: DeferredCounter): void {
  counters.set(counter.name, counter);
}

/**
 * Sums by counter, then by key. Keys are kept per counter rather than prefixed with its name, so an
 * add hashes the key string the batch already hashed instead of building and hashing a new one.
 */
class Sums {
  private readonly byCounter = new Map<DeferredCounter, Map<string, Entry>>();
  size = 0;

  /** Takes `entry` over: a later add of the same key adds to its values in place. */
  add(entry: Entry): void {
    let keys = this.byCounter.get(entry.counter);
    if (!keys) this.byCounter.set(entry.counter, (keys = new Map()));
    const known = keys.get(entry.key);
    if (known) entry.counter.merge(known.values, entry.values);
    else {
      keys.set(entry.key, entry);
      this.size++;
    }
  }

  *entries(): Iterable<Entry> {
    for (const keys of this.byCounter.values()) yield* keys.values();
  }

  /**
   * Counter by counter in name order, each in key order: the order a fold writes, which the same
   * rows give again after a crash. Sorting 20,000 keys takes about 10 ms, once per fold.
   */
  inKeyOrder(): Entry[] {
    const byKey = (a: Entry, b: Entry) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
    return [...this.byCounter.keys()]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .flatMap((counter) => [...this.byCounter.get(counter)!.values()].sort(byKey));
  }
}

// Deflated, a batch's sums fit in one page instead of spilling over three.
const pack = (sums: StoredSums) => Bun.deflateSync(Buffer.from(JSON.stringify(sums)), { level: 1 });
const unpack = (blob: Uint8Array) => JSON.parse(Buffer.from(Bun.inflateSync(blob as Uint8Array<ArrayBuffer>)).toString()) as StoredSums;

function sumsOfRows(db: Database, after: number, through: number): Sums {
  const sums = new Sums();
  const rows = db.query<{ sums: Uint8Array }, [number, number]>("SELECT sums FROM counter_backlog WHERE id > ? AND id <= ? ORDER BY id").all(after, through);
  for (const row of rows) {
    for (const [name, entryParams, values] of unpack(row.sums)) {
      const counter = counters.get(name);
      if (!counter) throw new Error(`the counter backlog holds sums for an unknown counter "${name}"`);
      sums.add({ counter, key: entryParams.join("\u0000"), params: entryParams, values });
    }
  }
  return sums;
}

function applyEntries(db: Database, entries: Entry[], from = 0): void {
  for (let i = from; i < entries.length; i++) entries[i]!.counter.write(db, entries[i]!.params, entries[i]!.values);
}

interface FoldState {
  folded_through: number;
  up_to: number | null;
  applied: number;
}

const MAX_ID = Number.MAX_SAFE_INTEGER;

/** A batch of at most this many writes leaves room for housekeeping: the queue is not under pressure. */
const LIGHT_BATCH = 2;
/** Folded rows deleted per light batch, and per busy batch once too many wait: a few at a time, as deleting a whole fold's rows at once stalled a commit for 50 ms. */
const LIGHT_DELETE_ROWS = 64;
const BUSY_DELETE_ROWS = 32;

/**
 * Finishes what a crash interrupted: the generation in `counter_fold`, then every backlog row after it.
 * Run by the one process that serves, before its first write; never beside a running server.
 * Returns the new `folded_through`.
 */
export function recoverCounterBacklog(db: Database): number {
  return db.transaction(() => {
    const fold = db.query<FoldState, []>("SELECT folded_through, up_to, applied FROM counter_fold WHERE id = 1").get()!;
    let through = fold.folded_through;
    if (fold.up_to !== null) {
      applyEntries(db, sumsOfRows(db, through, fold.up_to).inKeyOrder(), fold.applied);
      through = fold.up_to;
    }
    applyEntries(db, sumsOfRows(db, through, MAX_ID).inKeyOrder());
    const last = db.query<{ id: number | null }, []>("SELECT max(id) AS id FROM counter_backlog").get()!.id ?? through;
    const foldedThrough = Math.max(last, through);
    db.query("UPDATE counter_fold SET folded_through = ?, up_to = NULL, applied = 0 WHERE id = 1").run(foldedThrough);
    db.exec("DELETE FROM counter_backlog");
    return foldedThrough;
  }).immediate();
}

export class CounterBacklog {
  /** Sums of the batch being written, not yet committed. */
  private staged: Entry[] = [];
  private stagedRowId = 0;
  /** Sums of committed backlog rows that no generation covers yet, up to row `pendingUpTo`. */
  private pending = new Sums();
  private pendingUpTo = 0;
  private pendingSince = 0;
  private generation: Generation | null = null;
  /** Rows up to `foldedThrough` are in the counters; those up to `deletedThrough` are gone. */
  private foldedThrough = 0;
  private deletedThrough = 0;
  /** When a batch last came under pressure (more than LIGHT_BATCH writes). */
  private lastBusyAt = 0;
  /** The state to return to should the batch's COMMIT fail. */
  private beforeBatch: {
    pending: Sums;
    pendingSince: number;
    generation: Generation | null;
    applied: number;
    foldedThrough: number;
    deletedThrough: number;
  } | null = null;
  private foldedAllInBatch = false;
  // Prepared once: every batch runs some of these, and db.query's cache holds only a few statements.
  private readonly appendRow: Statement;
  private readonly deleteRows: Statement;
  private readonly recordProgress: Statement;
  private readonly recordFolded: Statement;
  /** Readers waiting for every sum committed before they asked, by the backlog row that covers them. */
  private waiters: { upTo: number; resolve: () => void }[] = [];

  /**
   * `foldAfterMs`: how long sums wait before a fold starts, so a busy key is rewritten once per
   * interval; `sliceMs`: how long one batch may spend folding, so commits stay short. With clicks
   * spread over 10,000 links a fold rewrites about 20,000 keys whatever its interval: every 5 s that
   * took a tenth of the redirect's throughput, every 30 s it is lost in the noise (bench/tracking.ts).
   * Readers that need exact counters settle first, so the interval only bounds how stale other
   * readers (another process on the same file) may be.
   *
   * `idleMs`, `maxFoldedRows`: folded rows are deleted only in light batches, or after `idleMs` with
   * none under pressure, unless more than `maxFoldedRows` wait. Deleting them between busy batches,
   * 32 a batch, read each row's old page back and handed its freed pages to the hot tables: for
   * seconds after each fold the redirect's throughput fell by a third and its p99 rose 1-3 ms
   * (bench/tracking.ts). The cap, about a minute of saturating load, bounds the file's growth.
   */
  constructor(
    db: Database,
    private readonly foldAfterMs = 30_000,
    private readonly sliceMs = 1,
    private readonly idleMs = 50,
    private readonly maxFoldedRows = 100_000,
  ) {
    this.foldedThrough = this.deletedThrough = recoverCounterBacklog(db);
    this.appendRow = db.prepare("INSERT INTO counter_backlog (sums) VALUES (?)");
    this.deleteRows = db.prepare("DELETE FROM counter_backlog WHERE id <= ?");
    this.recordProgress = db.prepare("UPDATE counter_fold SET up_to = ?, applied = ? WHERE id = 1");
    this.recordFolded = db.prepare("UPDATE counter_fold SET folded_through = ?, up_to = NULL, applied = 0 WHERE id = 1");
  }

  /** Resolves once every sum committed so far is in its counter; a fold starts at once for it. */
  settled(): Promise<void> {
    if (!this.holdsSums()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ upTo: this.pendingUpTo, resolve }));
  }

  /** Called while a batch is written: these sums go into its backlog row. `key` is `params` joined by NUL. */
  stage(counter: DeferredCounter, key: string, params: SQLQueryBindings[], values: number[]): void {
    this.staged.push({ counter, key, params, values });
  }

  /** True while committed sums wait in the backlog. */
  holdsSums(): boolean {
    return this.generation !== null || this.pending.size > 0;
  }

  /** True when a batch should run even with no writes queued: a fold is under way or due, or folded rows may be deleted. */
  workDue(now = performance.now()): boolean {
    return this.msUntilDue(now) === 0;
  }

  /** Milliseconds until the pending sums are due or folded rows may be deleted, or null when nothing waits. */
  msUntilDue(now = performance.now()): number | null {
    const untilFold = this.msUntilFold(now);
    const untilDelete = this.deletedThrough < this.foldedThrough ? Math.max(0, this.idleMs - (now - this.lastBusyAt)) : null;
    if (untilFold === null) return untilDelete;
    return untilDelete === null ? untilFold : Math.min(untilFold, untilDelete);
  }

  private msUntilFold(now: number): number | null {
    if (this.generation || (this.pending.size > 0 && this.waiters.length > 0)) return 0;
    return this.pending.size === 0 ? null : Math.max(0, this.foldAfterMs - (now - this.pendingSince));
  }

  /**
   * Inside the batch's transaction, just before COMMIT: append the batch's backlog row, delete folded
   * rows if the queue has room for it, then fold for at most one slice, or, when `foldAll` (on close),
   * fold everything so the counters are exact at COMMIT. `writes`: how many writes the batch holds.
   */
  beforeCommit(db: Database, foldAll: boolean, writes: number): void {
    this.beforeBatch = {
      pending: this.pending,
      pendingSince: this.pendingSince,
      generation: this.generation,
      applied: this.generation?.applied ?? 0,
      foldedThrough: this.foldedThrough,
      deletedThrough: this.deletedThrough,
    };
    this.foldedAllInBatch = foldAll;
    if (foldAll) return this.foldAll(db);
    if (this.staged.length > 0) {
      const sums: StoredSums = this.staged.map(({ counter, params, values }) => [counter.name, params, values]);
      this.stagedRowId = Number(this.appendRow.run(pack(sums)).lastInsertRowid);
    }
    const now = performance.now();
    const light = writes <= LIGHT_BATCH;
    if (!light) this.lastBusyAt = now;
    const folded = this.foldedThrough - this.deletedThrough;
    if (folded > 0 && (light || folded > this.maxFoldedRows)) {
      this.deletedThrough = Math.min(this.foldedThrough, this.deletedThrough + (light ? LIGHT_DELETE_ROWS : BUSY_DELETE_ROWS));
      this.deleteRows.run(this.deletedThrough);
    }
    if (!this.generation && this.msUntilFold(now) === 0) {
      this.generation = { upTo: this.pendingUpTo, entries: this.pending.inKeyOrder(), applied: 0 };
      this.pending = new Sums();
    }
    if (this.generation) this.foldSlice(db, this.generation, now + this.sliceMs);
  }

  private foldSlice(db: Database, generation: Generation, deadline: number): void {
    const { entries } = generation;
    let i = generation.applied;
    while (i < entries.length) {
      entries[i]!.counter.write(db, entries[i]!.params, entries[i]!.values);
      i++;
      if ((i & 15) === 0 && performance.now() > deadline) break;
    }
    generation.applied = i;
    if (i < entries.length) {
      this.recordProgress.run(generation.upTo, i);
    } else {
      this.recordFolded.run(generation.upTo);
      this.foldedThrough = generation.upTo;
    }
  }

  /** Everything: the generation's rest, the pending sums and this batch's, with no backlog row left. */
  private foldAll(db: Database): void {
    if (this.generation) applyEntries(db, this.generation.entries, this.generation.applied);
    // Copies: should COMMIT fail, the pending sums must be as they were.
    const rest = new Sums();
    for (const entry of [...this.pending.entries(), ...this.staged]) rest.add({ ...entry, values: [...entry.values] });
    applyEntries(db, rest.inKeyOrder());
    db.query("UPDATE counter_fold SET folded_through = (SELECT coalesce(max(id), 0) FROM counter_backlog), up_to = NULL, applied = 0 WHERE id = 1").run();
    db.exec("DELETE FROM counter_backlog");
    this.generation = null;
    this.pending = new Sums();
  }

  committed(): void {
    const generation = this.generation;
    const finished = this.foldedAllInBatch ? Infinity : generation && generation.applied === generation.entries.length ? generation.upTo : -1;
    if (finished >= 0) {
      this.generation = null;
      const ready = this.waiters.filter((waiter) => waiter.upTo <= finished);
      this.waiters = this.waiters.filter((waiter) => waiter.upTo > finished);
      for (const waiter of ready) waiter.resolve();
    }
    if (!this.foldedAllInBatch && this.staged.length > 0) {
      if (this.pending.size === 0) this.pendingSince = performance.now();
      for (const entry of this.staged) this.pending.add(entry);
      this.pendingUpTo = this.stagedRowId;
    }
    this.staged = [];
    this.beforeBatch = null;
  }

  rolledBack(): void {
    const before = this.beforeBatch;
    if (before) {
      this.pending = before.pending;
      this.pendingSince = before.pendingSince;
      this.generation = before.generation;
      if (this.generation) this.generation.applied = before.applied;
      this.foldedThrough = before.foldedThrough;
      this.deletedThrough = before.deletedThrough;
    }
    this.staged = [];
    this.beforeBatch = null;
  }
}
