import { expect, test } from "bun:test";
import { join } from "node:path";
import { openDatabase } from "./database.ts";
import { WriteQueue } from "./write-queue.ts";
import { tempDataDir } from "../testing/harness.ts";

test("commits never checkpoint inline, yet the WAL is checkpointed beside them and starts over once long", async () => {
  const data = tempDataDir("checkpoint");
  const path = join(data.dir, "c.sqlite");
  const db = openDatabase(path);
  db.exec("CREATE TABLE blobs (id INTEGER PRIMARY KEY, body BLOB NOT NULL)");
  const queue = new WriteQueue(db, 2000, { intervalMs: 10, walLimitPages: 256 });
  try {
    expect(db.query<{ wal_autocheckpoint: number }, []>("PRAGMA wal_autocheckpoint").get()!.wal_autocheckpoint).toBe(0);
    const insert = db.prepare("INSERT INTO blobs (body) VALUES (?)");
    const body = new Uint8Array(200 * 1024).fill(7);
    // A steady stream of commits, which a passive checkpoint racing them never fully catches up with.
    for (let i = 0; i < 150; i++) {
      await queue.write(() => insert.run(body));
    }
    const other = openDatabase(path);
    expect(other.query<{ n: number }, []>("SELECT count(*) AS n FROM blobs").get()!.n).toBe(150);
    // 30 MB (~7,500 pages) went through the WAL; with a 256-page limit it must have started over since.
    const wal = other.query<{ log: number }, []>("PRAGMA wal_checkpoint(PASSIVE)").get()!;
    expect(wal.log).toBeLessThan(2500);
    other.close();
  } finally {
    queue.close();
    db.close();
    data.remove();
  }
});
