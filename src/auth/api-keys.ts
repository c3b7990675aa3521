// API keys: shown once, stored as a SHA-256 hash (they are long random strings, so a slow hash
// buys nothing), identified by a short prefix, scoped to one project.
import { newId, randomString } from "../core/ids.ts";
import { sha256Hex } from "../core/secret.ts";
import type { Storage } from "../db/storage/storage.ts";

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

export async function createApiKey(storage: Storage, projectId: string, name = "", now = Date.now()): Promise<ApiKeyCreated> {
  const key = `${KEY_PREFIX}${randomString(40)}`;
  const prefix = key.slice(0, KEY_PREFIX.length + 6);
  const id = newId("key", 12);
  await storage.run("INSERT INTO api_keys (id, project_id, name, prefix, key_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)", [
    id,
    projectId,
    name,
    prefix,
    sha256Hex(key),
    now,
  ]);
  return { id, key, prefix, projectId };
}

const RECORD_USE_EVERY_MS = 60_000;

/** The project a live key belongs to, or null for a missing, unknown or revoked key. */
export async function projectIdForApiKey(storage: Storage, key: string, now = Date.now()): Promise<string | null> {
  if (!key.startsWith(KEY_PREFIX)) return null;
  const row = await storage.get<{ id: string; project_id: string; last_used_at: number | null }>(
    "SELECT id, project_id, last_used_at FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL",
    [sha256Hex(key)],
  );
  if (!row) return null;
  // Recording use at most once a minute keeps authenticated reads from turning into writes.
  if (row.last_used_at === null || now - row.last_used_at > RECORD_USE_EVERY_MS) {
    await storage.run("UPDATE api_keys SET last_used_at = ? WHERE id = ?", [now, row.id]);
  }
  return row.project_id;
}

export async function revokeApiKey(storage: Storage, projectId: string, keyId: string, now = Date.now()): Promise<boolean> {
  const { changes } = await storage.run("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND project_id = ? AND revoked_at IS NULL", [now, keyId, projectId]);
  return changes > 0;
}

export async function listApiKeys(storage: Storage, projectId: string): Promise<ApiKeySummary[]> {
  const rows = await storage.all<{
    id: string;
    name: string;
    prefix: string;
    project_id: string;
    created_at: number;
    last_used_at: number | null;
    revoked_at: number | null;
  }>("SELECT id, name, prefix, project_id, created_at, last_used_at, revoked_at FROM api_keys WHERE project_id = ? ORDER BY created_at DESC", [projectId]);
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    prefix: r.prefix,
    projectId: r.project_id,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
  }));
}
