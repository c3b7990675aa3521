// What every capability receives: the database, its write queue, configuration and the edges
// that tests replace (clock, client IP).
import type { Database } from "bun:sqlite";
import type { Config } from "./config.ts";
import type { Storage } from "./db/storage/storage.ts";
import type { JobQueue } from "./db/storage/jobs.ts";

/** The group commit: SQLite's write queue (src/db/write-queue.ts) or PostgreSQL's (src/db/postgres/write-queue.ts). */
export interface AppWrites extends JobQueue {
  /** Resolves once the counters of the writes resolved so far are in their tables (SQLite may keep them in a backlog a while). */
  settle(): Promise<void>;
  /** SQLite only: checkpoints and empties the WAL. */
  truncateWal?(): Promise<boolean>;
}

export interface AppContext {
  /** Capabilities moved to the storage interface (either engine) use `storage`; the others still `db`. */
  storage: Storage;
  db: Database;
  writes: AppWrites;
  /**
   * PostgreSQL: what this node's write notes are keyed by (its write queue's `notesFor`), which its
   * reports' in-memory caches follow (src/reports/source.ts). SQLite's notes are keyed by `db`.
   */
  reportNotes?: object;
  config: Config;
  secret: string;
  /** This process among the nodes sharing the database: the holder of the job leases it takes (src/db/leases.ts). */
  nodeId: string;
  now: () => number;
  /** The visitor's IP, or null when unknown (no socket in `app.handle` tests). Never stored. */
  clientIp: (request: Request) => string | null;
}
