// SQLite only: WAL checkpoints of SQLite's write queue, read from the -wal file's header.
import { expect, test } from "bun:test";
import { openSync, readSync, closeSync } from "node:fs";
import { join } from "node:path";
import type { Database } from "bun:sqlite";
import { openDatabase } from "./database.ts";
import { WriteQueue, type WriteQueueOptions } from "./write-queue.ts";
import { tempDataDir } from "../testing/harness.ts";

/** The WAL header's salt changes each time the WAL starts over from its beginning. */
function walSalt(path: string): string {
  const fd = openSync(`${path}-wal`, "r");
  try {
    const header = new Uint8Array(8);
    readSync(fd, header, 0, 8, 16);
    return Buffer.from(header).toString("hex");
  } finally {
    closeSync(fd);
  }
}

/** A queue on a new database file with a `blobs` table; closed and removed after `body`. */
async function withQueue(name: string, options: WriteQueueOptions, body: (opened: { path: string; db: Database; queue: WriteQueue }) => Promise<void>): Promise<void> {
  const data = tempDataDir(name);
  const path = join(data.dir, "c.sqlite");
  const db = openDatabase(path);
  db.exec("CREATE TABLE blobs (id INTEGER PRIMARY KEY, body BLOB)");
  const queue = new WriteQueue(db, options);
  try {
    await body({ path, db, queue });
  } finally {
    queue.close();
    db.close();
    data.remove();
  }
}

/** The state the queue shares with its checkpointer: [0] the WAL restart, [1] the disk. */
const sharedState = (queue: WriteQueue) => (queue as unknown as { checkpointer: { state: Int32Array } }).checkpointer.state;

test("commits never checkpoint inline, yet the WAL is checkpointed beside them and starts over during a steady stream of writes", () =>
  withQueue("checkpoint", { checkpointIntervalMs: 10, walLimitPages: 256 }, async ({ path, db, queue }) => {
    const insert = db.prepare("INSERT INTO blobs (body) VALUES (?)");
    const body = new Uint8Array(200 * 1024).fill(7);
    await queue.write(() => insert.run(body));
    expect(db.query<{ wal_autocheckpoint: number }, []>("PRAGMA wal_autocheckpoint").get()!.wal_autocheckpoint).toBe(0);
    const firstSalt = walSalt(path);
    // Without checkpoints in the commits and with the writes never pausing, only the queue's own
    // finishing checkpoint lets the WAL start over. Bounded: at most 120 MB of writes.
    let writes = 1;
    while (walSalt(path) === firstSalt && writes < 600) {
      await queue.write(() => insert.run(body));
      writes++;
    }
    expect(walSalt(path)).not.toBe(firstSalt);
    const other = openDatabase(path);
    expect(other.query<{ n: number }, []>("SELECT count(*) AS n FROM blobs").get()!.n).toBe(writes);
    other.close();
  }));

test("a write queued as the server closes is committed even while the checkpointer offers a WAL restart", () =>
  withQueue("checkpoint-close", { walLimitPages: 64 }, async ({ path, db, queue }) => {
    const insert = db.prepare("INSERT INTO blobs (body) VALUES (?)");
    await queue.write(() => insert.run(new Uint8Array(400 * 1024).fill(7)));
    // The WAL is past its limit and nothing else is written: the worker offers a restart and waits for an answer.
    const state = sharedState(queue);
    const waitingSince = performance.now();
    while (Atomics.load(state, 0) === 0 && performance.now() - waitingSince < 3000) await Bun.sleep(1);
    expect(Atomics.load(state, 0)).not.toBe(0);
    const last = queue.write(() => insert.run(new Uint8Array(10).fill(1)));
    queue.close();
    const settled = await Promise.race([last.then(() => "committed"), Bun.sleep(2000).then(() => "still waiting")]);
    expect(settled).toBe("committed");
    const other = openDatabase(path);
    expect(other.query<{ n: number }, []>("SELECT count(*) AS n FROM blobs").get()!.n).toBe(2);
    other.close();
  }));

test("while the checkpointer is at the disk, a bulk write waits and the event loop runs; it lands when the worker is done, or after a second if it never is; small writes do not wait", () =>
  withQueue("checkpoint-disk", { checkpointIntervalMs: 60_000 }, async ({ path, db, queue }) => {
    const other = openDatabase(path);
    const count = () => other.query<{ n: number }, []>("SELECT count(*) AS n FROM blobs").get()!.n;
    const insert = db.prepare("INSERT INTO blobs DEFAULT VALUES");
    await queue.write(() => insert.run());
    const state = sharedState(queue);
    // As the worker does before a pass or an fsync.
    expect(Atomics.compareExchange(state, 1, 0, 2)).toBe(0);
    // A small write races the worker, as redirects and collect do.
    await queue.write(() => insert.run());
    expect(count()).toBe(2);
    let committed = false;
    const write = queue.write(() => insert.run(), { bulk: true }).then(() => (committed = true));
    let ticks = 0;
    const ticking = setInterval(() => ticks++, 1);
    await Bun.sleep(50);
    clearInterval(ticking);
    expect(ticks).toBeGreaterThan(10);
    expect(committed).toBe(false);
    expect(count()).toBe(2);
    Atomics.store(state, 1, 0);
    await write;
    expect(count()).toBe(3);
    expect(Atomics.load(state, 1)).toBe(0);

    // A worker that never gives the disk back holds a bulk write a second at most.
    Atomics.store(state, 1, 2);
    const started = performance.now();
    await queue.write(() => insert.run(), { bulk: true });
    expect(performance.now() - started).toBeGreaterThanOrEqual(990);
    expect(count()).toBe(4);
    Atomics.store(state, 1, 0);
    other.close();
  }));

test("truncating the WAL waits for the checkpointer's pass instead of failing beside it, and leaves the WAL empty", () =>
  withQueue("checkpoint-truncate", { checkpointIntervalMs: 1 }, async ({ path, db, queue }) => {
    const insert = db.prepare("INSERT INTO blobs (body) VALUES (?)");
    const body = new Uint8Array(64 * 1024).fill(7);
    const walBytes = () => Bun.file(`${path}-wal`).size;
    await queue.write(() => insert.run(body));
    const state = sharedState(queue);
    for (let round = 0; round < 40; round++) {
      // Enough frames that the worker, passing every millisecond, is often mid-pass when the truncation starts.
      await Promise.all(Array.from({ length: 8 }, () => queue.write(() => insert.run(body))));
      expect(await queue.truncateWal()).toBe(true);
      expect(walBytes()).toBe(0);
    }
    // As the worker does before a pass (once its own pass, every millisecond, is done): the truncation waits for the disk, the event loop running.
    await queue.write(() => insert.run(body));
    while (Atomics.compareExchange(state, 1, 0, 2) !== 0) await Bun.sleep(0);
    let truncated = null as boolean | null;
    const truncation = queue.truncateWal().then((done) => (truncated = done));
    await Bun.sleep(30);
    expect(truncated).toBeNull();
    Atomics.store(state, 1, 0);
    await truncation;
    expect(truncated).toBe(true);
    expect(walBytes()).toBe(0);
  }));
