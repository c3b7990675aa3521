// Opens the one SQLite file every capability shares, tuned for a small VPS.
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";

export const DATABASE_FILE = "bantico.sqlite";

export function databasePath(dataDir: string): string {
  return join(dataDir, DATABASE_FILE);
}

export function openDatabase(path: string): Database {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { create: true, strict: true });
  db.exec("PRAGMA journal_mode = WAL");
  // With WAL, NORMAL survives a process crash (kill -9); only power loss can drop the last commits.
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec("PRAGMA foreign_keys = ON");
  // Deleted and overwritten content is zeroed, not left in free space: an erased person (src/privacy)
  // must leave no readable copy in the file.
  db.exec("PRAGMA secure_delete = ON");
  db.exec("PRAGMA temp_store = MEMORY");
  db.exec("PRAGMA cache_size = -32000");
  return db;
}

export function isDatabaseUsable(db: Database): boolean {
  try {
    return db.query("SELECT 1 AS ok").get() !== null;
  } catch {
    return false;
  }
}
