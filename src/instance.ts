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
import { explainDatabaseError, prepareDataDir } from "./startup.ts";

export interface Instance {
  ctx: AppContext;
  applied: string[];
  close(): void;
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
