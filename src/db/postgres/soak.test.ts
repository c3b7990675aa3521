// Bun.SQL under concurrency on a real PostgreSQL, with unnamed statements (connectPostgres's choice) and
// with its named-statement cache: no answer belongs to another statement, a failing statement fails alone, the pool
// never stalls, and a cached statement survives another node's migration. Run on every Bun upgrade.
import { describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { freshPostgresDatabase } from "../../testing/postgres.ts";
import { prepareSoak, soak } from "../../testing/pg-soak.ts";
import { connectPostgres } from "./connection.ts";

describe("Bun.SQL soak", () => {
  for (const [prepare, max] of [[false, 1], [true, 1], [true, 4]] as const) {
    test(`prepare: ${prepare}, 64 queries in flight on ${max} connection(s) for 3 s: every answer its own, errors alone, no stall`, async () => {
      const sql = new SQL(await freshPostgresDatabase(), { prepare, max, connectionTimeout: 10 });
      try {
        await prepareSoak(sql);
        const figures = await soak(sql, { seconds: 3, inFlight: 64 });
        expect(figures.unexpectedErrors.slice(0, 5)).toEqual([]);
        expect(figures.wrongAnswers).toBe(0);
        expect(figures.queries).toBeGreaterThan(2000);
        expect(figures.expectedErrors).toBeGreaterThan(figures.queries / 15);
        expect(figures.maxMs).toBeLessThan(2000);
      } finally {
        await sql.close();
      }
    });
  }

  test("a statement cached before another connection altered its table answers with the new columns, not an error forever", async () => {
    const url = await freshPostgresDatabase();
    const node = new SQL(url, { prepare: true, max: 1 });
    const other = connectPostgres(url, { max: 1 });
    try {
      await node.unsafe("CREATE TABLE altered (a int)");
      await node.unsafe("INSERT INTO altered VALUES (1)");
      const read = () => node`SELECT * FROM altered WHERE a = ${1}`;
      expect(await read()).toEqual([{ a: 1 }]);
      // As a migration run by another node would.
      await other.unsafe("ALTER TABLE altered ADD COLUMN b int DEFAULT 2");
      expect(await read()).toEqual([{ a: 1, b: 2 }]);
      expect(await read()).toEqual([{ a: 1, b: 2 }]);
    } finally {
      await node.close();
      await other.close();
    }
  });
});
