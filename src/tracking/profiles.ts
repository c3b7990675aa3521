// Identified profiles: a site's own user id linked to every visitor that identified as it. Written and
// read as write jobs, the same code on SQLite and PostgreSQL.
import { greatest, perEngine } from "../db/postgres/dialect.ts";
import type { JobSteps, JobTx } from "../db/storage/jobs.ts";
import { reattributePaymentsForEmail } from "../payments/ledger.ts";
import { notePersonsChanged } from "../reports/writes.ts";
import { ApiError } from "../http/errors.ts";
import { PROFILE_TRAITS_MAX_BYTES, PROFILE_TRAITS_MAX_KEYS } from "./model.ts";

export interface IdentifyInput {
  id: string;
  email?: string | null;
  name?: string | null;
  traits?: Record<string, unknown> | null;
}

export interface Profile {
  id: string;
  email: string | null;
  name: string | null;
  traits: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

interface ProfileRow {
  id: string;
  email: string | null;
  name: string | null;
  traits: string;
  created_at: number;
  updated_at: number;
}

/** Emails match case-insensitively and without surrounding spaces (SPEC §2). */
export function normalizeEmail(email: string | null | undefined): string | null {
  const normalized = email?.trim().toLowerCase();
  return normalized ? normalized : null;
}

const UPSERT_PROFILE = `INSERT INTO profiles (project_id, id, email, email_verified, name, traits, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (project_id, id) DO UPDATE SET email = coalesce(excluded.email, profiles.email),
  email_verified = CASE WHEN excluded.email IS NULL THEN profiles.email_verified ELSE excluded.email_verified END,
  name = coalesce(excluded.name, profiles.name), traits = excluded.traits, updated_at = excluded.updated_at`;

const LINK_VISITOR = perEngine(
  (engine) => `INSERT INTO profile_visitors (project_id, visitor_id, profile_id, identified_at, verified) VALUES (?, ?, ?, ?, ?)
  ON CONFLICT (project_id, visitor_id, profile_id) DO UPDATE SET identified_at = excluded.identified_at,
  verified = ${greatest(engine, "profile_visitors.verified", "excluded.verified")}`,
);

/**
 * How far an identify is believed (SPEC §3). `trusted`: the API key, or the browser with a valid
 * hash. `unsigned`: the browser without a hash, which anyone holding the public token can send.
 */
export type IdentifyTrust = "trusted" | "unsigned";

/**
 * Creates or updates the profile and, when a visitor is given, links it (a visitor may later be
 * someone else). An unsigned identify may create a profile and link the visitor, but never changes
 * an existing profile's email, name or traits; what it sets stays unverified.
 */
export function* identifyProfile(tx: JobTx, projectId: string, input: IdentifyInput, visitorId: string | null, now: number, trust: IdentifyTrust): JobSteps<Profile> {
  const trusted = trust === "trusted";
  const existing = yield* tx.get<{ traits: string }>("SELECT traits FROM profiles WHERE project_id = ? AND id = ?", [projectId, input.id]);
  if (!existing || trusted) {
    const email = normalizeEmail(input.email);
    const traits = mergeTraits(existing?.traits ?? "{}", input.traits ?? {});
    yield* tx.run(UPSERT_PROFILE, [projectId, input.id, email, email && trusted ? 1 : 0, input.name?.trim() || null, traits, now, now]);
  }
  if (visitorId && (yield* tx.run(LINK_VISITOR[tx.engine], [projectId, visitorId, input.id, now, trusted ? 1 : 0])).changes > 0) {
    yield* tx.note(notePersonsChanged, projectId);
  }
  const profile = (yield* getProfile(tx, projectId, input.id))!;
  // Payments that arrived before this customer identified can be traced now (SPEC §5, late identify).
  if (profile.email) yield* reattributePaymentsForEmail(tx, projectId, profile.email, now);
  return profile;
}

/** The traits after a JSON merge patch (RFC 7396: a null removes a trait); refused when that grows them past the cap. */
function mergeTraits(current: string, incoming: Record<string, unknown>): string {
  const patched = mergePatch(JSON.parse(current), incoming) as object;
  const merged = JSON.stringify(patched);
  const keys = Object.keys(patched).length;
  const bytes = Buffer.byteLength(merged);
  const over = keys > PROFILE_TRAITS_MAX_KEYS || bytes > PROFILE_TRAITS_MAX_BYTES;
  if (over && bytes >= Buffer.byteLength(current)) {
    throw new ApiError(
      400,
      "traits_too_large",
      `the profile's traits would hold ${keys} keys and ${bytes} bytes; at most ${PROFILE_TRAITS_MAX_KEYS} keys and ${PROFILE_TRAITS_MAX_BYTES} bytes are kept (send a trait as null to remove it)`,
    );
  }
  return merged;
}

/** What SQLite's json_patch computes, in JavaScript so both engines store the same text. Objects without a prototype, so a "__proto__" trait is a trait. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const merged: Record<string, unknown> = Object.create(null);
  if (isObject(target)) for (const key of Object.keys(target)) merged[key] = target[key];
  for (const key of Object.keys(patch)) {
    const value = patch[key];
    if (value === null) delete merged[key];
    else merged[key] = mergePatch(merged[key], value);
  }
  return merged;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function* getProfile(tx: JobTx, projectId: string, id: string): JobSteps<Profile | null> {
  const row = yield* tx.get<ProfileRow>("SELECT id, email, name, traits, created_at, updated_at FROM profiles WHERE project_id = ? AND id = ?", [projectId, id]);
  return row
    ? { id: row.id, email: row.email, name: row.name, traits: JSON.parse(row.traits), createdAt: row.created_at, updatedAt: row.updated_at }
    : null;
}

// INDEXED BY, SQLite's own: with the statistics of a large project its planner scanned the project's
// profiles by primary key instead of the email index (650 ms for 50 lookups among 139,000 profiles).
const PROFILES_BY_EMAIL = perEngine(
  (engine) => `SELECT id, updated_at FROM profiles ${engine === "sqlite" ? "INDEXED BY profiles_email " : ""}WHERE project_id = ? AND email = ?`,
);

export function* findProfileIdByEmail(tx: JobTx, projectId: string, email: string): JobSteps<string | null> {
  const normalized = normalizeEmail(email);
  if (!normalized) return null;
  const rows = yield* tx.all<{ id: string; updated_at: number }>(PROFILES_BY_EMAIL[tx.engine], [projectId, normalized]);
  let latest: { id: string; updated_at: number } | null = null;
  for (const row of rows) if (!latest || row.updated_at > latest.updated_at) latest = row;
  return latest?.id ?? null;
}

/** The profile this visitor identified as most recently. */
export function* profileIdOfVisitor(tx: JobTx, projectId: string, visitorId: string): JobSteps<string | null> {
  const row = yield* tx.get<{ profile_id: string }>(
    // CAST: see BOUND_FOR_ORDER_BY in statements.ts.
    "SELECT profile_id FROM profile_visitors WHERE project_id = CAST(? AS TEXT) AND visitor_id = CAST(? AS TEXT) ORDER BY identified_at DESC LIMIT 1",
    [projectId, visitorId],
  );
  return row?.profile_id ?? null;
}

/** The visitor that most recently identified as this profile. */
export function* latestVisitorOfProfile(tx: JobTx, projectId: string, profileId: string): JobSteps<string | null> {
  const row = yield* tx.get<{ visitor_id: string }>(
    "SELECT visitor_id FROM profile_visitors WHERE project_id = ? AND profile_id = ? ORDER BY identified_at DESC LIMIT 1",
    [projectId, profileId],
  );
  return row?.visitor_id ?? null;
}

export function* visitorIdsOfProfile(tx: JobTx, projectId: string, profileId: string): JobSteps<string[]> {
  const rows = yield* tx.all<{ visitor_id: string }>("SELECT visitor_id FROM profile_visitors WHERE project_id = ? AND profile_id = ? ORDER BY identified_at", [
    projectId,
    profileId,
  ]);
  return rows.map((row) => row.visitor_id);
}
