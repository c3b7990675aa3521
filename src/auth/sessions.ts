// Dashboard sessions: a random token in an HttpOnly cookie, its SHA-256 in dashboard_sessions,
// and a per-session CSRF token that every form and htmx request sends back.
import { timingSafeEqual } from "node:crypto";
import { randomString } from "../core/ids.ts";
import { sha256Hex } from "../core/secret.ts";
import type { Storage } from "../db/storage/storage.ts";
import type { Role, User } from "./users.ts";

export const SESSION_COOKIE = "bantico_session";
export const SESSION_TTL_MS = 30 * 86_400_000;
/** A session is extended on use once less than this much time is left. */
const RENEW_WHEN_LEFT_MS = 15 * 86_400_000;

export interface DashboardSession {
  tokenHash: string;
  csrfToken: string;
  expiresAt: number;
  /** Extended by this request: the browser's cookie must be sent again with the new lifetime. */
  renewed: boolean;
  user: User;
}

export async function createSession(storage: Storage, userId: string, now: number): Promise<{ token: string }> {
  const token = randomString(43);
  const csrfToken = randomString(32);
  const tokenHash = sha256Hex(token);
  await storage.run(
    "INSERT INTO dashboard_sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
    [tokenHash, userId, csrfToken, now, now, now + SESSION_TTL_MS],
  );
  // Opportunistic clean-up keeps the table small without a scheduler.
  await storage.run("DELETE FROM dashboard_sessions WHERE expires_at <= ?", [now]);
  return { token };
}

interface SessionRow {
  token_hash: string;
  csrf_token: string;
  expires_at: number;
  user_id: string;
  email: string;
  role: Role;
  user_created_at: number;
}

/** The live session for a cookie token, or null (unknown, expired, or its user removed). */
export async function findSession(storage: Storage, token: string | undefined | null, now: number): Promise<DashboardSession | null> {
  if (!token || token.length > 100) return null;
  const row = await storage.get<SessionRow>(
    `SELECT s.token_hash, s.csrf_token, s.expires_at, u.id AS user_id, u.email, u.role, u.created_at AS user_created_at
     FROM dashboard_sessions s JOIN users u ON u.id = s.user_id
     WHERE s.token_hash = ? AND s.expires_at > ?`,
    [sha256Hex(token), now],
  );
  if (!row) return null;
  const renewed = row.expires_at - now < RENEW_WHEN_LEFT_MS;
  const expiresAt = renewed ? now + SESSION_TTL_MS : row.expires_at;
  if (renewed) await storage.run("UPDATE dashboard_sessions SET expires_at = ?, last_seen_at = ? WHERE token_hash = ?", [expiresAt, now, row.token_hash]);
  return {
    tokenHash: row.token_hash,
    csrfToken: row.csrf_token,
    expiresAt,
    renewed,
    user: { id: row.user_id, email: row.email, role: row.role, createdAt: row.user_created_at },
  };
}

export async function deleteSession(storage: Storage, token: string | undefined | null): Promise<void> {
  if (token) await storage.run("DELETE FROM dashboard_sessions WHERE token_hash = ?", [sha256Hex(token)]);
}

/** Signs a user out everywhere except, optionally, the session they are using. */
export async function deleteUserSessions(storage: Storage, userId: string, exceptTokenHash?: string): Promise<void> {
  await storage.run("DELETE FROM dashboard_sessions WHERE user_id = ? AND token_hash != ?", [userId, exceptTokenHash ?? ""]);
}

/** Live sessions of a user (each browser or device signed in). */
export async function countUserSessions(storage: Storage, userId: string, now: number): Promise<number> {
  return (await storage.get<{ n: number }>("SELECT count(*) AS n FROM dashboard_sessions WHERE user_id = ? AND expires_at > ?", [userId, now]))!.n;
}

/** Constant-time comparison of a submitted CSRF token with the expected one. */
export function csrfMatches(expected: string, submitted: string | null | undefined): boolean {
  if (!submitted) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(submitted);
  return a.length === b.length && timingSafeEqual(a, b);
}
