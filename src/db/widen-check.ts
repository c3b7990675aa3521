// SQLite cannot alter a CHECK constraint, and writable_schema is off here (defensive mode): a table
// is rebuilt from its own current definition with one piece of text replaced, so columns and
// indexes that other migrations added survive.
import type { Database } from "bun:sqlite";

export function replaceInTableDefinition(db: Database, table: string, from: string, to: string): void {
  const definition = db.query<{ sql: string }, [string]>("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?").get(table)?.sql;
  if (!definition?.includes(from)) throw new Error(`${table} has no ${from} to replace`);
  const dependents = db
    .query<{ sql: string }, [string]>("SELECT sql FROM sqlite_schema WHERE tbl_name = ? AND type IN ('index', 'trigger') AND sql IS NOT NULL")
    .all(table)
    .map((r) => r.sql);
  const rebuilt = `${table}_rebuilt`;
  db.exec(definition.replace(from, to).replace(/^CREATE TABLE\s+("?)\w+\1/, `CREATE TABLE ${rebuilt}`));
  db.exec(`INSERT INTO ${rebuilt} SELECT * FROM ${table}`);
  db.exec(`DROP TABLE ${table}`);
  db.exec(`ALTER TABLE ${rebuilt} RENAME TO ${table}`);
  for (const sql of dependents) db.exec(sql);
}
