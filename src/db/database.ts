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
  // Deleted content is zeroed where that costs no extra I/O (b-tree pages); pages that go to the free
  // list may keep traces, which an erasure scrubs (src/privacy/erasure.ts). ON for every write cost the
  // collect path a third more CPU.
  db.exec("PRAGMA secure_delete = FAST");
  db.exec("PRAGMA temp_store = MEMORY");
  db.exec("PRAGMA cache_size = -32000");
  return db;
}

