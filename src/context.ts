// What every capability receives: the database, its write queue, configuration and the edges
// that tests replace (clock, client IP).
import type { Database } from "bun:sqlite";
import type { Config } from "./config.ts";
import type { WriteQueue } from "./db/write-queue.ts";

export interface AppContext {
  db: Database;
  writes: WriteQueue;
  config: Config;
  secret: string;
  now: () => number;
  /** The visitor's IP, or null when unknown (no socket in `app.handle` tests). Never stored. */
  clientIp: (request: Request) => string | null;
}
