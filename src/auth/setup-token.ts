// First-start setup: only whoever holds the one-time token printed in the server's log may create the owner.
import type { Storage } from "../db/storage/storage.ts";
import { randomString } from "../core/ids.ts";
import { csrfMatches } from "./sessions.ts";

export async function hasOwner(storage: Storage): Promise<boolean> {
  return (await storage.get("SELECT 1 FROM users WHERE role = 'owner' LIMIT 1")) !== null;
}

/** The setup token while the instance has no owner (created on first ask, the same afterwards); null once it has one. */
export async function currentSetupToken(storage: Storage, now = Date.now()): Promise<string | null> {
  if (await hasOwner(storage)) return null;
  // Nodes starting together on one database agree on the first token stored.
  await storage.run("INSERT INTO setup_token (id, token, created_at) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING", [randomString(32), now]);
  return (await storage.get<{ token: string }>("SELECT token FROM setup_token WHERE id = 1"))!.token;
}

export function setupUrl(baseUrl: string, token: string): string {
  return `${baseUrl}/setup?token=${encodeURIComponent(token)}`;
}

/** True when `submitted` is the current setup token (constant-time) and the instance has no owner yet. */
export async function setupTokenMatches(storage: Storage, submitted: string | null): Promise<boolean> {
  const row = await storage.get<{ token: string }>("SELECT token FROM setup_token WHERE id = 1");
  return row !== null && !(await hasOwner(storage)) && csrfMatches(row.token, submitted);
}

/** Used once: called in the transaction that creates the owner. */
export async function spendSetupToken(storage: Storage): Promise<void> {
  await storage.run("DELETE FROM setup_token");
}
