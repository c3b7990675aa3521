// Applies the PostgreSQL migrations in order, all pending ones in one transaction, like ../migrate.ts does for SQLite.
import type { SQL } from "bun";
import { MigrationError, pendingMigrations } from "../migrate.ts";

export interface PostgresMigration {
  version: number;
  name: string;
  sql: string;
}

/** Any fixed number: nodes that start together take turns on it, so one applies and the others find nothing pending. */
const MIGRATION_LOCK = 2_024_017;

/** Returns the names of the migrations it applied. Throws MigrationError naming the file that failed; nothing is applied then. */
export async function migratePostgres(sql: SQL, migrations: readonly PostgresMigration[], now = Date.now()): Promise<string[]> {
  return sql.begin(async (tx) => {
    await tx.unsafe(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    await tx.unsafe(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    INTEGER PRIMARY KEY,
      name       TEXT NOT NULL,
      applied_at BIGINT NOT NULL
    )`);
    const applied = await tx.unsafe<{ version: number }[]>("SELECT version FROM schema_migrations");
    const pending = pendingMigrations(applied.map((row) => row.version), migrations);
    for (const migration of pending) {
      try {
        await tx.unsafe(migration.sql);
      } catch (error) {
        throw new MigrationError(`migration postgres/${migration.name} failed: ${(error as Error).message}`);
      }
      await tx.unsafe("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", [migration.version, migration.name, now]);
    }
    return pending.map((m) => m.name);
  });
}
