import { afterEach, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { connectNode, describeOnEngines, freshDatabase, type TestDatabase } from "../../testing/engines.ts";
import { PostgresWriteQueue } from "../postgres/write-queue.ts";
import type { Job } from "./jobs.ts";
import type { Engine } from "./storage.ts";

const open: TestDatabase[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((db) => db.close()));
});
async function database(engine: Engine): Promise<TestDatabase> {
  const db = await freshDatabase(engine);
  open.push(db);
  return db;
}

/** Adds a user, then reads back how many there are: what the batch committed before it included. */
const addUser =
  (id: string): Job<number> =>
  function* (tx) {
    yield* tx.run("INSERT INTO users (id, email, password_hash, role, created_at) VALUES (?, ?, 'x', 'viewer', ?)", [id, `${id}@example.com`, 1]);
    return (yield* tx.get<{ n: number }>("SELECT count(*) AS n FROM users"))!.n;
  };

/** What another connection (another node, on PostgreSQL) sees. */
async function countElsewhere(db: TestDatabase, path: string | null): Promise<number> {
  if (db.url) {
    const other = connectNode(db.url);
    try {
      return (await other.storage.get<{ n: number }>("SELECT count(*) AS n FROM users"))!.n;
    } finally {
      await other.close();
    }
  }
  const other = new Database(path!, { readonly: true });
  try {
    return other.query<{ n: number }, []>("SELECT count(*) AS n FROM users").get()!.n;
  } finally {
    other.close();
  }
}

describeOnEngines("write jobs", (engine) => {
  test("jobs queued together run in order, each seeing the ones before, and are committed when they resolve", async () => {
    const db = await database(engine);
    const path = engine === "sqlite" ? (await db.storage.get<{ file: string }>("SELECT file FROM pragma_database_list WHERE name = 'main'"))!.file : null;
    const counts = await Promise.all(Array.from({ length: 300 }, (_, i) => db.writes.job(addUser(`u${i}`))));
    expect(counts).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(await countElsewhere(db, path)).toBe(300);
    // On PostgreSQL the 300 jobs shared a few transactions, as on SQLite.
    if (db.writes instanceof PostgresWriteQueue) expect(db.writes.commits).toBeLessThanOrEqual(3);
  });

  test("a job whose statement fails rejects alone; the others of its batch are committed", async () => {
    const db = await database(engine);
    await db.writes.job(addUser("taken"));
    const outcomes = await Promise.allSettled(["a", "b", "taken", "c"].map((id) => db.writes.job(addUser(id))));
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
    const ids = await db.storage.all<{ id: string }>("SELECT id FROM users ORDER BY id");
    expect(ids.map((r) => r.id)).toEqual(["a", "b", "c", "taken"]);
  });
});

describeOnEngines("write notes", (engine) => {
  test("each committed job's notes are heard once, on PostgreSQL even when its batch ran again job by job", async () => {
    const db = await database(engine);
    await db.writes.job(addUser("taken"));
    const heard: string[] = [];
    const hear = (_source: object, projectId: string) => heard.push(projectId);
    const noted = (id: string): Job<number> =>
      function* (tx) {
        yield* tx.note(hear, id);
        return yield* addUser(id)(tx);
      };
    const outcomes = await Promise.allSettled(["a", "b", "taken", "c"].map((id) => db.writes.job(noted(id))));
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
    // SQLite hears a note at once, inside the batch, as before jobs: the failed job's too (a reader reads again for nothing).
    expect(heard.sort()).toEqual(engine === "sqlite" ? ["a", "b", "c", "taken"] : ["a", "b", "c"]);
  });
});

test("on PostgreSQL, batches on two nodes naming one lock run one after the other, whatever order their jobs name them in", async () => {
  const db = await database("postgres");
  const other = connectNode(db.url!);
  open.push(other);
  await db.storage.run("CREATE TABLE lock_log (node TEXT, at_start TIMESTAMPTZ, at_end TIMESTAMPTZ)");
  const slow =
    (node: string): Job<void> =>
    function* (tx) {
      yield* tx.run("INSERT INTO lock_log SELECT ?, clock_timestamp(), clock_timestamp() + interval '1 hour' FROM pg_sleep(0.1)", [node]);
      yield* tx.run("UPDATE lock_log SET at_end = clock_timestamp() WHERE at_end > clock_timestamp()");
    };
  // Each node's two jobs join one batch; the nodes name the visitors' locks in opposite orders.
  const outcomes = await Promise.allSettled([
    db.writes.job(slow("a"), { locks: ["visitor-1"] }),
    db.writes.job(slow("a"), { locks: ["visitor-2"] }),
    other.writes.job(slow("b"), { locks: ["visitor-2"] }),
    other.writes.job(slow("b"), { locks: ["visitor-1"] }),
  ]);
  expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "fulfilled", "fulfilled", "fulfilled"]);
  const spans = await db.storage.all<{ node: string; first: string; last: string }>(
    "SELECT node, CAST(min(extract(epoch FROM at_start) * 1000) AS BIGINT) AS first, CAST(max(extract(epoch FROM at_end) * 1000) AS BIGINT) AS last FROM lock_log GROUP BY node ORDER BY first",
  );
  expect(spans).toHaveLength(2);
  expect(Number(spans[1]!.first)).toBeGreaterThanOrEqual(Number(spans[0]!.last));
});
