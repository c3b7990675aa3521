// SQLite only: SQLite's group-commit write queue on a bun:sqlite Database; PostgreSQL's is src/db/postgres/write-queue.ts (tested in src/db/storage/jobs.test.ts).
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { openDatabase } from "./database.ts";
import { WriteQueue } from "./write-queue.ts";
import { sqliteStorage } from "./storage/sqlite.ts";
import { tempDataDir } from "../testing/harness.ts";

function setup() {
  const data = tempDataDir("writes");
  const path = join(data.dir, "q.sqlite");
  const db = openDatabase(path);
  db.exec("CREATE TABLE items (id INTEGER PRIMARY KEY, value TEXT NOT NULL UNIQUE)");
  return { db, path, queue: new WriteQueue(db), done: () => (db.close(), data.remove()) };
}

describe("group commit", () => {
  test("writes queued together are committed together and are readable by another connection when they resolve", async () => {
    const { db, path, done } = setup();
    let commits = 0;
    // The queue prepares its COMMIT once: count the runs of that statement.
    const originalPrepare = db.prepare.bind(db);
    db.prepare = ((sql: string) => {
      const statement = originalPrepare(sql);
      if (sql === "COMMIT") {
        const run = statement.run.bind(statement);
        statement.run = ((...args: []) => (commits++, run(...args))) as typeof statement.run;
      }
      return statement;
    }) as typeof db.prepare;
    const queue = new WriteQueue(db);
    const insert = db.prepare("INSERT INTO items (value) VALUES (?)");
    const writes = Array.from({ length: 500 }, (_, i) => queue.write(() => insert.run(`v${i}`).lastInsertRowid));
    const ids = await Promise.all(writes);
    expect(new Set(ids).size).toBe(500);
    expect(commits).toBe(1);
    const other = openDatabase(path);
    expect(other.query<{ n: number }, []>("SELECT count(*) AS n FROM items").get()!.n).toBe(500);
    other.close();
    done();
  });

  test("a write that fails is rolled back alone and its caller sees the error", async () => {
    const { db, queue, done } = setup();
    const insert = db.prepare("INSERT INTO items (value) VALUES (?)");
    const results = await Promise.allSettled([
      queue.write(() => insert.run("a")),
      queue.write(() => {
        insert.run("half-written");
        insert.run("a");
      }),
      queue.write(() => insert.run("b")),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(db.query<{ value: string }, []>("SELECT value FROM items ORDER BY id").all().map((r) => r.value)).toEqual(["a", "b"]);
    done();
  });

  test("a batch waits for a storage transaction open across awaits, and survives its rollback", async () => {
    const { db, queue, done } = setup();
    const storage = sqliteStorage(db);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const transaction = storage
      .transaction(async (tx) => {
        await tx.run("INSERT INTO items (value) VALUES ('in the transaction')");
        await held;
        throw new Error("rolled back");
      })
      .catch(() => "rolled back");
    let queued = false;
    const write = queue.write(() => db.query("INSERT INTO items (value) VALUES ('queued')").run()).then(() => (queued = true));
    await Bun.sleep(30);
    expect(queued).toBe(false);
    release();
    await transaction;
    await write;
    expect(db.query<{ value: string }, []>("SELECT value FROM items").all().map((r) => r.value)).toEqual(["queued"]);
    done();
  });

  test("after close, nothing more is accepted", async () => {
    const { queue, done } = setup();
    queue.close();
    await expect(queue.write(() => 1)).rejects.toThrow(/closed/);
    done();
  });
});
