// Opens one Bantico instance from its configuration: data dir, database (migrated), secret, write queue.
import type { Database } from "bun:sqlite";
import type { Config } from "./config.ts";
import type { AppContext } from "./context.ts";
import { databasePath, openDatabase } from "./db/database.ts";
import { migrate } from "./db/migrate.ts";
import { migrations } from "./db/migrations.ts";
import { WriteQueue } from "./db/write-queue.ts";
import { sqliteStorage } from "./db/storage/sqlite.ts";
import { SQLITE_NODE_ID } from "./db/leases.ts";
import { loadOrCreateSecret } from "./core/secret.ts";
import { newId } from "./core/ids.ts";
import { explainDatabaseError, prepareDataDir, StartupError } from "./startup.ts";
import { connectPostgres, explainPostgresError } from "./db/postgres/connection.ts";
import { migratePostgres } from "./db/postgres/migrate.ts";
import { postgresMigrations } from "./db/postgres/migrations.ts";
import { PostgresWriteQueue } from "./db/postgres/write-queue.ts";
import { postgresStorage } from "./db/storage/postgres.ts";
import { announceNotes, listenForNotes } from "./reports/node-notes.ts";
import { NotOnPostgresYet } from "./http/errors.ts";

export interface Instance {
  ctx: AppContext;
  applied: string[];
  close(): void | Promise<void>;
}

/** The instance BANTICO_DATABASE_URL names, else the data dir's SQLite file. */
export function openAnyInstance(config: Config, edges: Partial<Pick<AppContext, "now" | "clientIp">> = {}, options: { serving?: boolean } = {}): Promise<Instance> {
  return config.databaseUrl ? openPostgresInstance(config, config.databaseUrl, edges, options) : Promise.resolve(openInstance(config, edges, options));
}

/** `serving`: this process answers HTTP and is the only one folding the counter backlog (src/db/counter-backlog.ts). */
export function openInstance(config: Config, edges: Partial<Pick<AppContext, "now" | "clientIp">> = {}, options: { serving?: boolean } = {}): Instance {
  prepareDataDir(config.dataDir);
  const path = databasePath(config.dataDir);
  let db: Database | null = null;
  let applied: string[];
  try {
    db = openDatabase(path);
    applied = migrate(db, migrations);
  } catch (error) {
    db?.close();
    throw explainDatabaseError(path, config.dataDir, error) ?? error;
  }
  const secret = config.secret ?? loadOrCreateSecret(config.dataDir);
  const writes = new WriteQueue(db, { counterBacklog: options.serving ?? false });
  const ctx: AppContext = {
    storage: sqliteStorage(db),
    db,
    writes,
    config,
    secret,
    nodeId: SQLITE_NODE_ID,
    now: edges.now ?? Date.now,
    clientIp: edges.clientIp ?? (() => null),
  };
  return {
    ctx,
    applied,
    close() {
      writes.close();
      db.close();
    },
  };
}

/**
 * One node on a PostgreSQL database (SPEC §11): migrated first, its jobs grouped into transactions, its
 * write notes told to the other nodes and theirs heard (serving only). Every node must share
 * BANTICO_SECRET, so sessions, CSRF tokens and sealed secrets made on one node hold on the others.
 */
async function openPostgresInstance(config: Config, url: string, edges: Partial<Pick<AppContext, "now" | "clientIp">>, options: { serving?: boolean }): Promise<Instance> {
  if (!config.secret) throw new StartupError("BANTICO_SECRET is required with BANTICO_DATABASE_URL: every node sharing the database must use the same secret (for example: openssl rand -hex 32)");
  const sql = connectPostgres(url, { max: 8, integers: true });
  let applied: string[];
  try {
    applied = await migratePostgres(sql, postgresMigrations);
  } catch (error) {
    await sql.close();
    throw explainPostgresError(url, error) ?? error;
  }
  const nodeId = newId("node", 12);
  // Report readers on this node key their write notes by this object (src/reports/writes.ts).
  const readers = {};
  const writes = new PostgresWriteQueue(sql, 1000, readers, (notes) => announceNotes(nodeId, notes));
  const storage = postgresStorage(sql);
  const notes = options.serving ? await listenForNotes(storage, nodeId, readers) : null;
  const ctx: AppContext = {
    storage,
    get db(): never {
      throw new NotOnPostgresYet();
    },
    writes,
    reportNotes: readers,
    config,
    secret: config.secret,
    nodeId,
    now: edges.now ?? Date.now,
    clientIp: edges.clientIp ?? (() => null),
  };
  return {
    ctx,
    applied,
    async close() {
      await notes?.stop();
      await writes.close();
      await sql.close();
    },
  };
}
