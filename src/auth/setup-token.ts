// First-start setup: only whoever holds the one-time token printed in the server's log may create the owner.
import type { Database } from "bun:sqlite";
import { randomString } from "../core/ids.ts";
import { csrfMatches } from "./sessions.ts";

export function hasOwner(db: Database): boolean {
  return db.query("SELECT 1 FROM users WHERE role = 'owner' LIMIT 1").get() !== null;
}

/** The setup token while the instance has no owner (created on first ask, the same afterwards); null once it has one. */
export function currentSetupToken(db: Database, now = Date.now()): string | null {
  if (hasOwner(db)) return null;
  db.query("INSERT OR IGNORE INTO setup_token (id, token, created_at) VALUES (1, ?, ?)").run(randomString(32), now);
  return db.query<{ token: string }, []>("SELECT token FROM setup_token WHERE id = 1").get()!.token;
}

export function setupUrl(baseUrl: string, token: string): string {
  return `${baseUrl}/setup?token=${encodeURIComponent(token)}`;
}

/** True when `submitted` is the current setup token (constant-time) and the instance has no owner yet. */
export function setupTokenMatches(db: Database, submitted: string | null): boolean {
  const row = db.query<{ token: string }, []>("SELECT token FROM setup_token WHERE id = 1").get();
  return row !== null && !hasOwner(db) && csrfMatches(row.token, submitted);
}

/** Used once: called in the transaction that creates the owner. */
export function spendSetupToken(db: Database): void {
  db.query("DELETE FROM setup_token").run();
}
