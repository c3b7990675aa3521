// Opens one Bantico instance from its configuration: data dir, database (migrated), secret, write queue.
import type { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import type { Config } from "./config.ts";
import type { AppContext } from "./context.ts";
import { databasePath, openDatabase } from "./db/database.ts";
import { migrate } from "./db/migrate.ts";
import { migrations } from "./db/migrations.ts";
import { WriteQueue } from "./db/write-queue.ts";
import { loadOrCreateSecret } from "./core/secret.ts";

export interface Instance {
  ctx: AppContext;
  applied: string[];
  close(): void;
}

/** `serving`: this process answers HTTP and is the only one folding the counter backlog (src/db/counter-backlog.ts). */
export function openInstance(config: Config, edges: Partial<Pick<AppContext, "now" | "clientIp">> = {}, options: { serving?: boolean } = {}): Instance {
  mkdirSync(config.dataDir, { recursive: true });
  const db: Database = openDatabase(databasePath(config.dataDir));
  let applied: string[];
  try {
    applied = migrate(db, migrations);
  } catch (error) {
    db.close();
    throw error;
  }
  const secret = config.secret ?? loadOrCreateSecret(config.dataDir);
  const writes = new WriteQueue(db, { counterBacklog: options.serving ?? false });
  const ctx: AppContext = {
    db,
    writes,
    config,
    secret,
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
