// First-start setup: only whoever holds the one-time token printed in the server's log may create the owner.
import type { Storage } from "../db/storage/storage.ts";
import { randomString } from "../core/ids.ts";
import { csrfMatches } from "./sessions.ts";
import { insertUser, type User } from "./users.ts";
import { createProject, updateProjectSettings, type Project } from "../projects/service.ts";

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

/**
 * The first owner and their first project, in one transaction; null when the instance has an owner or
 * another setup spent the token first. Two setups submitted at once check for an owner at the same
 * moment on PostgreSQL: the second DELETE of the token waits for the first to commit, then finds
 * nothing, so only one goes on.
 */
export async function createFirstOwner(
  storage: Storage,
  input: { email: string; passwordHash: string; projectName: string; timezone: string | null },
  now: number,
): Promise<{ user: User; project: Project } | null> {
  return storage.transaction(async (tx) => {
    if (await hasOwner(tx)) return null;
    if ((await tx.run("DELETE FROM setup_token WHERE id = 1")).changes === 0) return null;
    const user = await insertUser(tx, { email: input.email, passwordHash: input.passwordHash, role: "owner" }, now);
    const project = await createProject(tx, { name: input.projectName }, now);
    return { user, project: input.timezone ? (await updateProjectSettings(tx, project.id, { timezone: input.timezone }))! : project };
  });
}
