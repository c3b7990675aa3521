// `bantico migrate-to postgres://…` (SPEC §11): copies the SQLite database of a data dir into an empty
// PostgreSQL database, schema first, table by table in keyset batches, resumable, verified at the end.
import { pendingMigrations } from "../migrate.ts";
import { migrations } from "../migrations.ts";
import { connectPostgres, displayPostgresUrl, explainPostgresError } from "../postgres/connection.ts";
import { migratePostgres } from "../postgres/migrate.ts";
import { postgresMigrations } from "../postgres/migrations.ts";
import { fingerprintDifference, MigrateToError, type CopiedTable } from "./model.ts";
import { SqliteSource } from "./source.ts";
import { PostgresTarget } from "./target.ts";

export { MigrateToError };

/** Rows per batch and transaction: 20,000 copied within noise of 5,000 on 1M events (bench/migrate-to.ts), and a smaller batch repeats less after an interruption. */
export const DEFAULT_BATCH_ROWS = 5000;

export interface CopyProgress {
  table: string;
  copiedRows: number;
  totalRows: number;
  /** True when an earlier run had finished this table already. */
  alreadyCopied: boolean;
}

export interface MigrateToSummary {
  source: string;
  target: string;
  /** True when an earlier, interrupted run had started this copy. */
  resumed: boolean;
  /** Per table: its rows, those this run copied, and the seconds this run spent on it (its indexes' rebuild included). */
  tables: { table: string; rows: number; copiedNow: number; seconds: number }[];
  rows: number;
  copiedNow: number;
  seconds: number;
  rowsPerSecond: number;
  verified: true;
}

export interface MigrateToOptions {
  sqlitePath: string;
  postgresUrl: string;
  batchRows?: number;
  /** Called after each committed batch, and once for each table an earlier run finished. */
  onProgress?: (progress: CopyProgress) => void;
  now?: () => number;
}

export async function migrateTo(options: MigrateToOptions): Promise<MigrateToSummary> {
  const { sqlitePath, postgresUrl, batchRows = DEFAULT_BATCH_ROWS, onProgress = () => {}, now = Date.now } = options;
  const startedAt = performance.now();
  const source = new SqliteSource(sqlitePath);
  const sql = connectPostgres(postgresUrl, { max: 1 });
  try {
    requireCurrentSchema(source);
    const target = new PostgresTarget(sql);
    if (!(await target.claim())) throw new MigrateToError(`another migrate-to is copying into ${displayPostgresUrl(postgresUrl)}: let it finish, or stop it and run this again to resume`);
    const sourceTables = source.tableNames();
    const recorded = await target.recordedSource();
    if (recorded === null) {
      const reason = await target.reasonNotEmpty(sourceTables);
      if (reason) {
        throw new MigrateToError(
          `${displayPostgresUrl(postgresUrl)} is not empty (${reason}): migrate-to fills only an empty database; create one (createdb) and give its URL`,
        );
      }
      await target.start(sqlitePath, sourceTables, now());
    } else if (recorded !== sqlitePath) {
      throw new MigrateToError(
        `${displayPostgresUrl(postgresUrl)} holds a copy of ${recorded}, not of ${sqlitePath}: give the same --data to resume it, or copy into a new empty database`,
      );
    }
    await migratePostgres(sql, postgresMigrations);

    const tables = await target.tablesInCopyOrder();
    const targetNames = tables.map((t) => t.name).sort();
    if (targetNames.join() !== [...sourceTables].sort().join()) {
      throw new MigrateToError(`the tables of ${sqlitePath} (${sourceTables.join(", ")}) are not the PostgreSQL schema's (${targetNames.join(", ")})`);
    }
    const summaries: MigrateToSummary["tables"] = [];
    for (const table of tables) {
      const missing = table.columns.filter((c) => c.name !== "rowid" && !source.columnNames(table.name).includes(c.name));
      if (missing.length > 0) throw new MigrateToError(`table ${table.name}: SQLite has no column ${missing[0]!.name}`);
      const tableStartedAt = performance.now();
      const totalRows = source.countRows(table.name);
      let { lastKey, copiedRows, done } = await target.progress(table.name);
      const copiedBefore = copiedRows;
      if (done) onProgress({ table: table.name, copiedRows, totalRows, alreadyCopied: true });
      else await target.deferIndexes(table.name);
      while (!done) {
        const batch = source.readBatch(table, lastKey, batchRows);
        if (batch.lastKey === null) break;
        try {
          await target.copyBatch(table, batch.json, batch.count, batch.lastKey);
        } catch (error) {
          const cause = explainPostgresError(postgresUrl, error)?.message ?? (error as Error).message;
          throw new MigrateToError(`copying table ${table.name} failed after ${copiedRows} rows: ${cause}; run the same command again to resume once that is fixed`);
        }
        lastKey = batch.lastKey;
        copiedRows += batch.count;
        onProgress({ table: table.name, copiedRows, totalRows, alreadyCopied: false });
      }
      if (!done) await target.finishTable(table);
      summaries.push({ table: table.name, rows: totalRows, copiedNow: copiedRows - copiedBefore, seconds: roundedSeconds(performance.now() - tableStartedAt) });
    }

    for (const table of tables) await verify(source, target, table, recorded !== null);

    const seconds = roundedSeconds(performance.now() - startedAt);
    const copiedNow = summaries.reduce((sum, t) => sum + t.copiedNow, 0);
    return {
      source: sqlitePath,
      target: displayPostgresUrl(postgresUrl),
      resumed: recorded !== null,
      tables: summaries,
      rows: summaries.reduce((sum, t) => sum + t.rows, 0),
      copiedNow,
      seconds,
      rowsPerSecond: Math.round(copiedNow / seconds),
      verified: true,
    };
  } catch (error) {
    throw explainPostgresError(postgresUrl, error) ?? error;
  } finally {
    source.close();
    await sql.close();
  }
}

function roundedSeconds(milliseconds: number): number {
  return Math.round(milliseconds / 10) / 100;
}

/** The executable copies only a database at exactly its own schema version: the PostgreSQL schema is that version. */
function requireCurrentSchema(source: SqliteSource): void {
  const applied = source.appliedVersions();
  if (pendingMigrations(applied, migrations).length > 0) {
    throw new MigrateToError(`${source.path} is at an older schema than this version of Bantico: run "bantico migrate" with the same --data first, then migrate-to`);
  }
}

async function verify(source: SqliteSource, target: PostgresTarget, table: CopiedTable, resumed: boolean): Promise<void> {
  const [expected, found] = [source.countRows(table.name), await target.countRows(table.name)];
  const difference =
    expected !== found
      ? `table ${table.name} has ${expected} rows in SQLite but ${found} in PostgreSQL`
      : fingerprintDifference(table.name, source.fingerprint(table), await target.fingerprint(table));
  if (difference === null) return;
  const hint = resumed
    ? "the SQLite database changed since an earlier run copied it (or the copy was changed): stop the server, then copy again into a new empty database"
    : "copy again into a new empty database, and report this if it happens again";
  throw new MigrateToError(`verification failed: ${difference}; ${hint}`);
}
