// SQLite only: BatchSums on a bun:sqlite Database and its WriteQueue; PostgreSQL sums a batch's keys in its own queue (src/db/storage/jobs.ts JobBatch).
import { expect, test } from "bun:test";
import { join } from "node:path";
import { BatchSums } from "./batch-sums.ts";
import { openDatabase } from "./database.ts";
import { WriteQueue } from "./write-queue.ts";
import { tempDataDir } from "../testing/harness.ts";

function setup() {
  const data = tempDataDir("sums");
  const path = join(data.dir, "s.sqlite");
  const db = openDatabase(path);
  db.exec("CREATE TABLE totals (name TEXT PRIMARY KEY, n INTEGER NOT NULL, upserts INTEGER NOT NULL DEFAULT 1)");
  const sums = new BatchSums(
    function* (tx, [name], [n]) {
      yield* tx.run("INSERT INTO totals (name, n) VALUES (?, ?) ON CONFLICT DO UPDATE SET n = n + excluded.n, upserts = upserts + 1", [name!, n!]);
    },
    (into, [n]) => (into[0]! += n!),
  );
  const read = (name: string) => openDatabase(path).query<{ n: number; upserts: number }, [string]>("SELECT n, upserts FROM totals WHERE name = ?").get(name);
  return { db, queue: new WriteQueue(db), sums, read, done: () => (db.close(), data.remove()) };
}

test("counters added by a batch's writes are on disk, once per key, when the writes resolve", async () => {
  const { db, queue, sums, read, done } = setup();
  await Promise.all(Array.from({ length: 50 }, (_, i) => queue.write((tx) => sums.add(tx, i % 2 ? "odd" : "even", [i % 2 ? "odd" : "even"], [1]))));
  expect(read("odd")).toEqual({ n: 25, upserts: 1 });
  expect(read("even")).toEqual({ n: 25, upserts: 1 });
  sums.add(db, "odd", ["odd"], [5]);
  expect(read("odd")).toEqual({ n: 30, upserts: 2 });
  done();
});

test("a write that fails adds nothing to the batch's counters", async () => {
  const { queue, sums, read, done } = setup();
  const results = await Promise.allSettled([
    queue.write((tx) => sums.add(tx, "clicks", ["clicks"], [1])),
    queue.write((tx) => {
      sums.add(tx, "clicks", ["clicks"], [100]);
      throw new Error("refused");
    }),
    queue.write((tx) => sums.add(tx, "clicks", ["clicks"], [2])),
  ]);
  expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
  expect(read("clicks")).toEqual({ n: 3, upserts: 1 });
  done();
});
