// Statements prepared once per database: `db.query` caches only 20, and the hot paths need more.
import type { Database, SQLQueryBindings, Statement } from "bun:sqlite";
import { randomString } from "../core/ids.ts";

const cache = new WeakMap<Database, Map<string, Statement>>();
const KEPT_STATEMENTS = 1000;

/** Past a thousand texts (SQL built with varying lists), bun:sqlite's own cache of the last 20, so memory stays bounded. */
export function prepared<Row = unknown, Params extends SQLQueryBindings[] = SQLQueryBindings[]>(db: Database, sql: string): Statement<Row, Params> {
  let statements = cache.get(db);
  if (!statements) cache.set(db, (statements = new Map()));
  let statement = statements.get(sql);
  if (!statement) {
    if (statements.size >= KEPT_STATEMENTS) return db.query(sql) as unknown as Statement<Row, Params>;
    statements.set(sql, (statement = db.prepare(sql)));
  }
  return statement as unknown as Statement<Row, Params>;
}

// BOUND_FOR_ORDER_BY: with Bun's SQLite (3.54), a SELECT that has an ORDER BY and compares a column
// to a bare `?` runs 3-8 µs slower every time, as if compiled again; `CAST(? AS TEXT)` in its place
// keeps the same index and plan without that cost. The hot paths' ordered lookups are written so.

/**
 * An unguessable id that sorts by creation time: rows inserted now land at the end of their
 * primary-key index instead of on a random page, which keeps each group commit small.
 */
export function timeOrderedId(now: number, randomLength = 10): string {
  return `${now.toString(36).padStart(9, "0")}${randomString(randomLength)}`;
}
