import { afterEach, expect, test } from "bun:test";
import { describeOnEngines, freshDatabase, type TestDatabase } from "../../testing/engines.ts";
import { numberedPlaceholders } from "./postgres.ts";
import { ApiError } from "../../http/errors.ts";

const open: TestDatabase[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((db) => db.close()));
});
async function database(engine: "sqlite" | "postgres"): Promise<TestDatabase> {
  const db = await freshDatabase(engine);
  open.push(db);
  return db;
}

const insertUser = "INSERT INTO users (id, email, password_hash, role, created_at) VALUES (?, ?, 'x', 'viewer', ?)";

describeOnEngines("storage", (engine) => {
  test("rows come back with integers as numbers and text as text", async () => {
    const { storage } = await database(engine);
    expect((await storage.run(insertUser, ["u1", "12", 1_733_000_000_123])).changes).toBe(1);
    const row = await storage.get<{ email: string; created_at: number; n: number; total: number }>(
      "SELECT email, created_at, (SELECT count(*) FROM users) AS n, (SELECT CAST(SUM(created_at) AS BIGINT) FROM users) AS total FROM users WHERE id = ?",
      ["u1"],
    );
    expect(row).toEqual({ email: "12", created_at: 1_733_000_000_123, n: 1, total: 1_733_000_000_123 });
    expect(await storage.get("SELECT id FROM users WHERE id = ?", ["nobody"])).toBeNull();
    expect(await storage.all("SELECT id FROM users WHERE email = '?' OR id = ?", ["u1"])).toEqual([{ id: "u1" }]);
  });

  test("a transaction commits when its work resolves and leaves nothing when it throws", async () => {
    const { storage } = await database(engine);
    await storage.transaction(async (tx) => {
      await tx.run(insertUser, ["a", "a@example.com", 1]);
      await tx.run(insertUser, ["b", "b@example.com", 2]);
    });
    await expect(
      storage.transaction(async (tx) => {
        await tx.run(insertUser, ["c", "c@example.com", 3]);
        throw new Error("changed my mind");
      }),
    ).rejects.toThrow("changed my mind");
    // A failing nested part rolls back alone.
    await storage.transaction(async (tx) => {
      await tx.run(insertUser, ["d", "d@example.com", 4]);
      await tx.transaction(async (inner) => {
        await inner.run(insertUser, ["e", "e@example.com", 5]);
        throw new Error("inner");
      }).catch(() => {});
    });
    const ids = await storage.all<{ id: string }>("SELECT id FROM users ORDER BY id");
    expect(ids.map((r) => r.id)).toEqual(["a", "b", "d"]);
  });

  test("two transactions begun at once both commit", async () => {
    const { storage } = await database(engine);
    await Promise.all(["a", "b"].map((id) => storage.transaction((tx) => tx.run(insertUser, [id, `${id}@example.com`, 1]))));
    const ids = await storage.all<{ id: string }>("SELECT id FROM users ORDER BY id");
    expect(ids.map((r) => r.id)).toEqual(["a", "b"]);
  });

  test("a write from outside waits for an open transaction instead of joining it", async () => {
    const { storage } = await database(engine);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const transaction = storage
      .transaction(async (tx) => {
        await tx.run(insertUser, ["in", "in@example.com", 1]);
        await held;
        throw new Error("rolled back");
      })
      .catch((error: Error) => error.message);
    await Bun.sleep(20);
    const outside = storage.run(insertUser, ["out", "out@example.com", 2]);
    await Bun.sleep(20);
    release();
    expect(await transaction).toBe("rolled back");
    await outside;
    const ids = await storage.all<{ id: string }>("SELECT id FROM users ORDER BY id");
    expect(ids.map((r) => r.id)).toEqual(["out"]);
  });
});

test("on PostgreSQL, text holding NUL is refused as bad input and stores nothing", async () => {
  const { storage } = await database("postgres");
  const refused = await storage.run(insertUser, ["nul", "a\0b@example.com", 1]).catch((error: ApiError) => error);
  expect(refused).toBeInstanceOf(ApiError);
  expect((refused as ApiError).httpStatus).toBe(400);
  expect(await storage.all("SELECT id FROM users")).toEqual([]);
});

test("placeholders are numbered outside quotes and comments", () => {
  expect(numberedPlaceholders(`SELECT '?', "a?b", ? -- what?\n, ?, 'it''s ?' /* and ? here */, ?`)).toBe(`SELECT '?', "a?b", $1 -- what?\n, $2, 'it''s ?' /* and ? here */, $3`);
  expect(() => numberedPlaceholders("SELECT $$it's ?$$, ?")).toThrow(/dollar-quoted/);
});
