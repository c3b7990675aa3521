// Identified profiles: a site's own user id linked to every visitor that identified as it.
import type { Database } from "bun:sqlite";
import { prepared } from "./statements.ts";
import { reattributePaymentsForEmail } from "../payments/ledger.ts";
import { notePersonsChanged } from "../reports/people/windows.ts";

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

const UPSERT_PROFILE = `INSERT INTO profiles (project_id, id, email, name, traits, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (project_id, id) DO UPDATE SET email = coalesce(excluded.email, email), name = coalesce(excluded.name, name),
  traits = json_patch(traits, excluded.traits), updated_at = excluded.updated_at`;

const LINK_VISITOR = `INSERT INTO profile_visitors (project_id, visitor_id, profile_id, identified_at) VALUES (?, ?, ?, ?)
  ON CONFLICT (project_id, visitor_id, profile_id) DO UPDATE SET identified_at = excluded.identified_at`;

/** Creates or updates the profile and, when a visitor is given, links it (a visitor may later be someone else). */
export function identifyProfile(db: Database, projectId: string, input: IdentifyInput, visitorId: string | null, now: number): Profile {
  prepared(db, UPSERT_PROFILE).run(
    projectId,
    input.id,
    normalizeEmail(input.email),
    input.name?.trim() || null,
    JSON.stringify(input.traits ?? {}),
    now,
    now,
  );
  if (visitorId && prepared(db, LINK_VISITOR).run(projectId, visitorId, input.id, now).changes > 0) notePersonsChanged(db, projectId);
  const profile = getProfile(db, projectId, input.id)!;
  // Payments that arrived before this customer identified can be traced now (SPEC §5, late identify).
  if (profile.email) reattributePaymentsForEmail(db, projectId, profile.email, now);
  return profile;
}

export function getProfile(db: Database, projectId: string, id: string): Profile | null {
  const row = prepared<ProfileRow, [string, string]>(
    db,
    "SELECT id, email, name, traits, created_at, updated_at FROM profiles WHERE project_id = ? AND id = ?",
  ).get(projectId, id);
  return row
    ? { id: row.id, email: row.email, name: row.name, traits: JSON.parse(row.traits), createdAt: row.created_at, updatedAt: row.updated_at }
    : null;
}

export function findProfileIdByEmail(db: Database, projectId: string, email: string): string | null {
  const normalized = normalizeEmail(email);
  if (!normalized) return null;
  return (
    prepared<{ id: string }, [string, string]>(db, "SELECT id FROM profiles WHERE project_id = ? AND email = ? ORDER BY updated_at DESC LIMIT 1").get(
      projectId,
      normalized,
    )?.id ?? null
  );
}

/** The profile this visitor identified as most recently. */
export function profileIdOfVisitor(db: Database, projectId: string, visitorId: string): string | null {
  return (
    prepared<{ profile_id: string }, [string, string]>(
      db,
      // CAST: see BOUND_FOR_ORDER_BY in statements.ts.
      "SELECT profile_id FROM profile_visitors WHERE project_id = CAST(? AS TEXT) AND visitor_id = CAST(? AS TEXT) ORDER BY identified_at DESC LIMIT 1",
    ).get(projectId, visitorId)?.profile_id ?? null
  );
}

/** The visitor that most recently identified as this profile. */
export function latestVisitorOfProfile(db: Database, projectId: string, profileId: string): string | null {
  return (
    prepared<{ visitor_id: string }, [string, string]>(
      db,
      "SELECT visitor_id FROM profile_visitors WHERE project_id = ? AND profile_id = ? ORDER BY identified_at DESC LIMIT 1",
    ).get(projectId, profileId)?.visitor_id ?? null
  );
}

export function visitorIdsOfProfile(db: Database, projectId: string, profileId: string): string[] {
  return prepared<{ visitor_id: string }, [string, string]>(
    db,
    "SELECT visitor_id FROM profile_visitors WHERE project_id = ? AND profile_id = ? ORDER BY identified_at",
  )
    .all(projectId, profileId)
    .map((row) => row.visitor_id);
}
