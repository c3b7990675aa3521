// Applies the numbered SQL migrations in order, all pending ones in one transaction.
import type { Database } from "bun:sqlite";

export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** Runs after `sql` in the same transaction, for what SQL alone cannot say (see widen-check.ts). */
  after?: (db: Database) => void;
}

export class MigrationError extends Error {}

function ensureLedger(db: Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  )`);
}

export function appliedVersions(db: Database): number[] {
  ensureLedger(db);
  return db
    .query<{ version: number }, []>("SELECT version FROM schema_migrations ORDER BY version")
    .all()
    .map((row) => row.version);
}

/**
 * The migrations still to apply, in order, on either engine. Throws MigrationError when the database
 * records a migration this executable does not know (a newer Bantico wrote it).
 */
export function pendingMigrations<M extends { version: number }>(appliedVersions: readonly number[], migrations: readonly M[]): M[] {
  const applied = new Set(appliedVersions);
  const known = new Set(migrations.map((m) => m.version));
  const newer = [...applied].filter((v) => !known.has(v));
  if (newer.length > 0) {
    throw new MigrationError(
      `the database has migration ${Math.max(...newer)} that this version of Bantico does not know: upgrade Bantico, or restore a backup`,
    );
  }
  return [...migrations].sort((a, b) => a.version - b.version).filter((m) => !applied.has(m.version));
}

/** Returns the names of the migrations it applied. Throws MigrationError naming the file that failed; nothing is applied then. */
export function migrate(db: Database, migrations: readonly Migration[], now = Date.now()): string[] {
  const pending = pendingMigrations(appliedVersions(db), migrations);
  if (pending.length === 0) return [];
  const record = db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)");
  db.transaction(() => {
    for (const migration of pending) {
      try {
        db.exec(migration.sql);
        migration.after?.(db);
      } catch (error) {
        throw new MigrationError(`migration ${migration.name} failed: ${(error as Error).message}`);
      }
      record.run(migration.version, migration.name, now);
    }
  })();
  return pending.map((m) => m.name);
}
