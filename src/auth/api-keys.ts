// API keys: shown once, stored as a SHA-256 hash (they are long random strings, so a slow hash
// buys nothing), identified by a short prefix, scoped to one project.
import type { Database } from "bun:sqlite";
import { newId, randomString } from "../core/ids.ts";
import { sha256Hex } from "../core/secret.ts";

const KEY_PREFIX = "bt_live_";

export interface ApiKeyCreated {
  id: string;
  key: string;
  prefix: string;
  projectId: string;
}

export interface ApiKeySummary {
  id: string;
  name: string;
  prefix: string;
  projectId: string;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

export function createApiKey(db: Database, projectId: string, name = "", now = Date.now()): ApiKeyCreated {
  const key = `${KEY_PREFIX}${randomString(40)}`;
  const prefix = key.slice(0, KEY_PREFIX.length + 6);
  const id = newId("key", 12);
  db.query("INSERT INTO api_keys (id, project_id, name, prefix, key_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)").run(
    id,
    projectId,
    name,
    prefix,
    sha256Hex(key),
    now,
  );
  return { id, key, prefix, projectId };
}

/** The project a live key belongs to, or null for a missing, unknown or revoked key. */
export function projectIdForApiKey(db: Database, key: string, now = Date.now()): string | null {
  if (!key.startsWith(KEY_PREFIX)) return null;
  const row = db
    .query<{ id: string; project_id: string; last_used_at: number | null }, [string]>(
      "SELECT id, project_id, last_used_at FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL",
    )
    .get(sha256Hex(key));
  if (!row) return null;
  // Recording use at most once a minute keeps authenticated reads from turning into writes.
  if (row.last_used_at === null || now - row.last_used_at > 60_000) {
    db.query("UPDATE api_keys SET last_used_at = ? WHERE id = ?").run(now, row.id);
  }
  return row.project_id;
}

export function revokeApiKey(db: Database, projectId: string, keyId: string, now = Date.now()): boolean {
  return db.query("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND project_id = ? AND revoked_at IS NULL").run(now, keyId, projectId).changes > 0;
}

export function listApiKeys(db: Database, projectId: string): ApiKeySummary[] {
  return db
    .query<
      { id: string; name: string; prefix: string; project_id: string; created_at: number; last_used_at: number | null; revoked_at: number | null },
      [string]
    >("SELECT id, name, prefix, project_id, created_at, last_used_at, revoked_at FROM api_keys WHERE project_id = ? ORDER BY created_at DESC")
    .all(projectId)
    .map((r) => ({
      id: r.id,
      name: r.name,
      prefix: r.prefix,
      projectId: r.project_id,
      createdAt: r.created_at,
      lastUsedAt: r.last_used_at,
      revokedAt: r.revoked_at,
    }));
}
