// Test helper: the same tests on both engines, each test on a fresh migrated database: a SQLite file in a
// temporary folder, or a new database on the test PostgreSQL server (./postgres.ts).
import { describe } from "bun:test";
import { openDatabase } from "../db/database.ts";
import { migrate } from "../db/migrate.ts";
import { migrations } from "../db/migrations.ts";
import { connectPostgres } from "../db/postgres/connection.ts";
import { migratePostgres } from "../db/postgres/migrate.ts";
import { postgresMigrations } from "../db/postgres/migrations.ts";
import { postgresStorage } from "../db/storage/postgres.ts";
import { sqliteStorage } from "../db/storage/sqlite.ts";
import type { Engine, Storage } from "../db/storage/storage.ts";
import { tempDataDir } from "./harness.ts";
import { freshPostgresDatabase } from "./postgres.ts";

export interface TestDatabase {
  storage: Storage;
  /** The PostgreSQL URL, for a second node's connection; null on SQLite. */
  url: string | null;
  close(): Promise<void>;
}

export const ENGINES: readonly Engine[] = ["sqlite", "postgres"];

export async function freshDatabase(engine: Engine): Promise<TestDatabase> {
  if (engine === "sqlite") {
    const data = tempDataDir("bantico-storage");
    const db = openDatabase(`${data.dir}/bantico.sqlite`);
    migrate(db, migrations);
    return { storage: sqliteStorage(db), url: null, close: async () => (db.close(), data.remove()) };
  }
  const url = await freshPostgresDatabase();
  const sql = connectPostgres(url, { integers: true });
  await migratePostgres(sql, postgresMigrations);
  return { storage: postgresStorage(sql), url, close: () => sql.close() };
}

/** Opens another connection to a PostgreSQL test database: a second node. */
export function connectNode(url: string): TestDatabase {
  const sql = connectPostgres(url, { integers: true });
  return { storage: postgresStorage(sql), url, close: () => sql.close() };
}

/** `describe(name)` once per engine, the engine passed to the body. */
export function describeOnEngines(name: string, body: (engine: Engine) => void): void {
  for (const engine of ENGINES) describe(`${name} (${engine})`, () => body(engine));
}
