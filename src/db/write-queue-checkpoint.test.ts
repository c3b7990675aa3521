import { expect, test } from "bun:test";
import { openSync, readSync, closeSync } from "node:fs";
import { join } from "node:path";
import { openDatabase } from "./database.ts";
import { WriteQueue } from "./write-queue.ts";
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

test("commits never checkpoint inline, yet the WAL is checkpointed beside them and starts over during a steady stream of writes", async () => {
  const data = tempDataDir("checkpoint");
  const path = join(data.dir, "c.sqlite");
  const db = openDatabase(path);
  db.exec("CREATE TABLE blobs (id INTEGER PRIMARY KEY, body BLOB NOT NULL)");
  const queue = new WriteQueue(db, { checkpointIntervalMs: 10, walLimitPages: 256 });
  try {
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
  } finally {
    queue.close();
    db.close();
    data.remove();
  }
});
