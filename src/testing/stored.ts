// Test helper: everything a database holds, as text, for the proofs that something is stored nowhere
// (an erased person, a credential, an IP).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { quoteIdentifier } from "../db/postgres/dialect.ts";
import type { Storage } from "../db/storage/storage.ts";

export async function tableNames(storage: Storage): Promise<string[]> {
  const tables = await storage.all<{ name: string }>(
    storage.engine === "sqlite"
      ? "SELECT name FROM sqlite_master WHERE type = 'table'"
      : "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
  );
  return tables.map((t) => t.name);
}

/** One table's rows as text, blobs as their bytes. */
export async function tableAsText(storage: Storage, table: string): Promise<string> {
  const rows = await storage.all<Record<string, unknown>>(`SELECT * FROM ${quoteIdentifier(table)}`);
  return JSON.stringify(rows.map((row) => Object.values(row).map((value) => (value instanceof Uint8Array ? Buffer.from(value).toString("latin1") : value))));
}

/** Every row of every table as text. */
export async function everyRowAsText(storage: Storage): Promise<string> {
  const tables = await Promise.all((await tableNames(storage)).map((name) => tableAsText(storage, name)));
  return tables.join("\n");
}

/** The bytes of a data dir's SQLite database and write-ahead log, as text. */
export function sqliteFilesAsText(dataDir: string): string {
  const path = join(dataDir, "bantico.sqlite");
  return [path, `${path}-wal`]
    .filter(existsSync)
    .map((file) => readFileSync(file).toString("latin1"))
    .join("\n");
}
