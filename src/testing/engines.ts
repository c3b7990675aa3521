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
import type { JobQueue } from "../db/storage/jobs.ts";
import { WriteQueue } from "../db/write-queue.ts";
import { PostgresWriteQueue } from "../db/postgres/write-queue.ts";
import { tempDataDir } from "./harness.ts";
import { freshPostgresDatabase } from "./postgres.ts";
import { postgresReports, type ReportDb } from "../reports/source.ts";

export interface TestDatabase {
  storage: Storage;
  /** The engine's group commit for write jobs. */
  writes: JobQueue;
  /** The PostgreSQL URL, for a second node's connection; null on SQLite. */
  url: string | null;
  /** What this node's reports read through (src/reports/source.ts): the Database, or PostgreSQL's reports keyed by the queue's notes. */
  reports: ReportDb;
  /** Resolves once every committed write is in the rollups (SQLite folds its counters in the background), as reports await. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export const ENGINES: readonly Engine[] = ["sqlite", "postgres"];

export async function freshDatabase(engine: Engine): Promise<TestDatabase> {
  if (engine === "sqlite") {
    const data = tempDataDir("bantico-storage");
    const db = openDatabase(`${data.dir}/bantico.sqlite`);
    migrate(db, migrations);
    const writes = new WriteQueue(db);
    return { storage: sqliteStorage(db), writes, url: null, reports: db, settle: () => writes.settle(), close: async () => (writes.close(), db.close(), data.remove()) };
  }
  const url = await freshPostgresDatabase();
  const sql = connectPostgres(url, { integers: true });
  await migratePostgres(sql, postgresMigrations);
  return postgresNode(url, sql);
}

/** Opens another connection to a PostgreSQL test database: a second node. */
export function connectNode(url: string): TestDatabase {
  return postgresNode(url, connectPostgres(url, { integers: true }));
}

function postgresNode(url: string, sql: ReturnType<typeof connectPostgres>): TestDatabase {
  // The queue keys its write notes by the connection (its default `notesFor`): so do the node's reports.
  const writes = new PostgresWriteQueue(sql, undefined, sql);
  const storage = postgresStorage(sql);
  return { storage, writes, url, reports: postgresReports(storage, sql), settle: async () => {}, close: async () => (await writes.close(), await sql.close()) };
}

/**
 * Two nodes on one fresh database: on PostgreSQL each with connections and a write queue of its own;
 * SQLite's file has one node, so there its second is itself. What is opened goes into `opened`, for the
 * test to close.
 */
export async function twoNodeDatabases(engine: Engine, opened: TestDatabase[]): Promise<[TestDatabase, TestDatabase]> {
  const first = await freshDatabase(engine);
  opened.push(first);
  if (!first.url) return [first, first];
  const second = connectNode(first.url);
  opened.push(second);
  return [first, second];
}

/** The storages of `twoNodeDatabases`. */
export async function twoNodes(engine: Engine, opened: TestDatabase[]): Promise<[Storage, Storage]> {
  const [first, second] = await twoNodeDatabases(engine, opened);
  return [first.storage, second.storage];
}

/** `describe(name)` once per engine, the engine passed to the body. */
export function describeOnEngines(name: string, body: (engine: Engine) => void): void {
  for (const engine of ENGINES) describe(`${name} (${engine})`, () => body(engine));
}
