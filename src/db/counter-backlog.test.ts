// SQLite only: the counter backlog belongs to SQLite's write queue; PostgreSQL's queue writes every sum before COMMIT and keeps no backlog.
import { expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { BatchSums } from "./batch-sums.ts";
import { recoverCounterBacklog } from "./counter-backlog.ts";
import { openDatabase } from "./database.ts";
import { migrate } from "./migrate.ts";
import { migrations } from "./migrations.ts";
import { WriteQueue } from "./write-queue.ts";
import { tempDataDir } from "../testing/harness.ts";
// Registers the rollup's counters, as the server does before it recovers a backlog.
import "../tracking/events.ts";

const totals = new BatchSums(
  function* (tx, [name], [n, last]) {
    yield* tx.run("INSERT INTO totals (name, n, last) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET n = n + excluded.n, last = max(last, excluded.last)", [name!, n!, last!]);
  },
  (into, [n, last]) => {
    into[0]! += n!;
    into[1] = Math.max(into[1]!, last!);
  },
  "test_totals",
);

function setup(options: { foldAfterMs: number; foldSliceMs: number; backlogIdleMs?: number; backlogMaxFoldedRows?: number }) {
  const data = tempDataDir("backlog");
  const path = join(data.dir, "b.sqlite");
  const db = openDatabase(path);
  migrate(db, migrations);
  db.exec("CREATE TABLE totals (name TEXT PRIMARY KEY, n INTEGER NOT NULL, last INTEGER NOT NULL)");
  const queue = new WriteQueue(db, { counterBacklog: true, ...options });
  const read = (target: Database) =>
    Object.fromEntries(target.query<{ name: string; n: number; last: number }, []>("SELECT name, n, last FROM totals ORDER BY name").all().map((r) => [r.name, [r.n, r.last]]));
  return { data, db, queue, read };
}

test("counters wait in the backlog, and a reader that settles sees every resolved write's sums", async () => {
  const { data, db, queue, read } = setup({ foldAfterMs: 60_000, foldSliceMs: 1 });
  await Promise.all(Array.from({ length: 60 }, (_, i) => queue.write((tx) => totals.add(tx, `k${i % 3}`, [`k${i % 3}`], [1, i]))));
  expect(read(db)).toEqual({});
  expect(db.query("SELECT count(*) AS n FROM counter_backlog").get()).toEqual({ n: expect.any(Number) });
  await queue.settle();
  expect(read(db)).toEqual({ k0: [20, 57], k1: [20, 58], k2: [20, 59] });
  expect(db.query("SELECT up_to FROM counter_fold").get()).toEqual({ up_to: null });
  // What a fold applied is never applied again, even before its rows are deleted.
  recoverCounterBacklog(db);
  expect(read(db)).toEqual({ k0: [20, 57], k1: [20, 58], k2: [20, 59] });
  queue.close();
  db.close();
  data.remove();
});

test("folded backlog rows are deleted when the queue is light, not between busy batches unless too many wait", async () => {
  // Folds at once; only batches of more than two writes count as busy, and the idle delay never passes here.
  const { data, db, queue, read } = setup({ foldAfterMs: 0, foldSliceMs: 1, backlogIdleMs: 60_000, backlogMaxFoldedRows: 40 });
  const foldedRows = () =>
    db.query<{ n: number }, []>("SELECT count(*) AS n FROM counter_backlog WHERE id <= (SELECT folded_through FROM counter_fold)").get()!.n;
  const busyBatch = (round: number) => Promise.all(Array.from({ length: 8 }, (_, i) => queue.write((tx) => totals.add(tx, `k${i}`, [`k${i}`], [1, round]))));

  for (let round = 0; round < 30; round++) await busyBatch(round);
  const waiting = foldedRows();
  expect(waiting).toBeGreaterThan(20);
  for (let round = 30; round < 40; round++) await busyBatch(round);
  expect(foldedRows()).toBeGreaterThanOrEqual(waiting);

  // Past the cap, busy batches delete too, so the table stays bounded under lasting load.
  for (let round = 40; round < 120; round++) await busyBatch(round);
  expect(foldedRows()).toBeLessThanOrEqual(40 + 1);

  // A light batch (one write) deletes what waits.
  await queue.write((tx) => totals.add(tx, "k0", ["k0"], [1, 120]));
  await queue.write((tx) => totals.add(tx, "k0", ["k0"], [1, 121]));
  expect(foldedRows()).toBeLessThanOrEqual(1);
  await queue.settle();
  expect(read(db).k0).toEqual([122, 121]);
  queue.close();
  db.close();
  data.remove();
});

test("deleting folded rows does not start a fold before the pending sums are due", async () => {
  const { data, db, queue, read } = setup({ foldAfterMs: 60_000, foldSliceMs: 1, backlogIdleMs: 0 });
  // 200 busy batches, then one fold: more folded rows than two light batches delete.
  for (let round = 0; round < 200; round++) {
    await Promise.all(Array.from({ length: 8 }, (_, i) => queue.write((tx) => totals.add(tx, `k${i}`, [`k${i}`], [1, round]))));
  }
  await queue.settle();
  const settled = read(db);
  await queue.write((tx) => totals.add(tx, "k0", ["k0"], [1, 200]));
  await queue.write((tx) => totals.add(tx, "k0", ["k0"], [1, 201]));
  await queue.write((tx) => totals.add(tx, "k0", ["k0"], [1, 202]));
  expect(read(db)).toEqual(settled);
  queue.close();
  db.close();
  data.remove();
});

test("once writes stop, folded backlog rows are deleted without any further write", async () => {
  const { data, db, queue } = setup({ foldAfterMs: 0, foldSliceMs: 1, backlogIdleMs: 20 });
  for (let round = 0; round < 20; round++) {
    await Promise.all(Array.from({ length: 8 }, (_, i) => queue.write((tx) => totals.add(tx, `k${i}`, [`k${i}`], [1, round]))));
  }
  const rows = () => db.query<{ n: number }, []>("SELECT count(*) AS n FROM counter_backlog").get()!.n;
  expect(rows()).toBeGreaterThan(10);
  for (let waited = 0; waited < 2000 && rows() > 0; waited += 10) await Bun.sleep(10);
  expect(rows()).toBe(0);
  queue.close();
  db.close();
  data.remove();
});

test("after a crash at any commit, even mid-fold, recovery counts every committed sum exactly once", async () => {
  // A fold slice of 0 ms applies 16 keys per batch, so folds span many commits.
  const { data, db, queue, read } = setup({ foldAfterMs: 0, foldSliceMs: 0 });
  const expected = new Map<string, [number, number]>();
  let midFoldSnapshots = 0;
  let snapshot = 0;
  for (let round = 0; round < 12; round++) {
    const writes = Array.from({ length: 40 }, (_, i) => {
      const key = `k${(round * 7 + i) % 90}`;
      const at = round * 100 + i;
      return queue.write((tx) => totals.add(tx, key, [key], [i + 1, at])).then(() => {
        const [n, last] = expected.get(key) ?? [0, 0];
        expected.set(key, [n + i + 1, Math.max(last, at)]);
      });
    });
    await Promise.all(writes);
    // Between two commits: what a kill -9 right now would leave on disk.
    const copy = join(data.dir, `crash-${snapshot++}.sqlite`);
    db.exec(`VACUUM INTO '${copy}'`);
    const crashed = new Database(copy, { strict: true });
    midFoldSnapshots += (crashed.query("SELECT count(*) AS n FROM counter_fold WHERE up_to IS NOT NULL").get() as { n: number }).n;
    recoverCounterBacklog(crashed);
    expect(read(crashed)).toEqual(Object.fromEntries([...expected].sort(([a], [b]) => (a < b ? -1 : 1))));
    expect(crashed.query("SELECT count(*) AS n FROM counter_backlog").get()).toEqual({ n: 0 });
    crashed.close();
  }
  expect(midFoldSnapshots).toBeGreaterThan(0);
  queue.close();
  expect(read(db)).toEqual(Object.fromEntries([...expected].sort(([a], [b]) => (a < b ? -1 : 1))));
  db.close();
  data.remove();
});

test("a backlog left by the version that kept link counters apart is folded exactly once after the upgrade", () => {
  const data = tempDataDir("backlog-upgrade");
  const db = openDatabase(join(data.dir, "u.sqlite"));
  migrate(db, migrations);
  db.query("INSERT INTO projects (id, name, token, created_at) VALUES ('prj_u', 'U', 'bt_pub_u', 0)").run();
  const hour = 3_600_000 * 480_000;
  const key = ["prj_u", hour, "lnk_u", "", "", "", "", ""];
  const pack = (sums: unknown) => Bun.deflateSync(Buffer.from(JSON.stringify(sums)), { level: 1 });
  // Written before the upgrade: the rollup's 7 counts, and the link's [clicks, last click] apart.
  const before = [
    ["context_stats", key, [2, 0, 0, 0, 0, 0, 0]],
    ["link_counters", ["lnk_u", "prj_u"], [2, hour + 5]],
  ];
  // Written after: the link's clicks and last click ride on the rollup's sum.
  const after = [["context_stats", key, [3, 0, 0, 0, 0, 0, 0, 3, hour + 9]]];
  db.query("INSERT INTO counter_backlog (sums) VALUES (?), (?)").run(pack(before), pack(after));

  recoverCounterBacklog(db);

  expect(db.query("SELECT clicks FROM context_stats_hourly WHERE link_id = 'lnk_u'").get()).toEqual({ clicks: 5 });
  expect(db.query("SELECT clicks, last_clicked_at FROM link_counters WHERE link_id = 'lnk_u'").get()).toEqual({ clicks: 5, last_clicked_at: hour + 9 });
  expect(db.query("SELECT count(*) AS n FROM counter_backlog").get()).toEqual({ n: 0 });
  db.close();
  data.remove();
});
