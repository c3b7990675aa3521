// Projects: the unit a snippet token, an API key and every report belong to.
import type { Database } from "bun:sqlite";
import { newId, randomString } from "../core/ids.ts";

export interface Project {
  id: string;
  name: string;
  token: string;
  currency: string;
  timezone: string;
  allowedHostnames: string[];
  lookbackDays: number;
  pricingPathPattern: string;
  /** Keys the HMAC a site's server computes for a signed `bantico.identify` (SPEC §3). */
  identifySecret: string;
  /** The secret before the last rotation, still accepted until `validUntil` (unix ms). */
  previousIdentifySecret: { secret: string; validUntil: number } | null;
  /** The `identify_email` rule uses only emails from the API or a signed identify. */
  verifiedEmailAttributionOnly: boolean;
  /** Renewals count in revenue totals (DataFast's setting); off, totals count first sales only. */
  countRenewals: boolean;
  createdAt: number;
}

interface ProjectRow {
  id: string;
  name: string;
  token: string;
  currency: string;
  timezone: string;
  allowed_hostnames: string;
  lookback_days: number;
  pricing_path_pattern: string;
  identify_secret: string;
  previous_identify_secret: string | null;
  previous_identify_secret_until: number | null;
  verified_email_attribution_only: number;
  count_renewals: number;
  created_at: number;
}

const COLUMNS = `id, name, token, currency, timezone, allowed_hostnames, lookback_days, pricing_path_pattern, identify_secret,
  previous_identify_secret, previous_identify_secret_until, verified_email_attribution_only, count_renewals, created_at`;

function toProject(row: ProjectRow): Project {
  return {
    id: row.id,
    name: row.name,
    token: row.token,
    currency: row.currency,
    timezone: row.timezone,
    allowedHostnames: JSON.parse(row.allowed_hostnames) as string[],
    lookbackDays: row.lookback_days,
    pricingPathPattern: row.pricing_path_pattern,
    identifySecret: row.identify_secret,
    previousIdentifySecret:
      row.previous_identify_secret && row.previous_identify_secret_until !== null
        ? { secret: row.previous_identify_secret, validUntil: row.previous_identify_secret_until }
        : null,
    verifiedEmailAttributionOnly: row.verified_email_attribution_only === 1,
    countRenewals: row.count_renewals !== 0,
    createdAt: row.created_at,
  };
}

export function createProject(db: Database, input: { name: string }, now = Date.now()): Project {
  const name = input.name.trim();
  if (!name) throw new Error("a project needs a name");
  const id = newId("prj", 12);
  const token = `bt_pub_${randomString(20)}`;
  db.query("INSERT INTO projects (id, name, token, identify_secret, created_at) VALUES (?, ?, ?, ?, ?)").run(id, name, token, newIdentifySecret(), now);
  return getProject(db, id)!;
}

export function getProject(db: Database, id: string): Project | null {
  const row = db.query<ProjectRow, [string]>(`SELECT ${COLUMNS} FROM projects WHERE id = ?`).get(id);
  return row ? toProject(row) : null;
}

// Collect looks its project up by token on every event. A copy at most a second old is fresh
// enough: settings saved in this process drop it at once, and another process's within a second.
const TOKEN_CACHE_MS = 1000;
const byToken = new WeakMap<Database, Map<string, { project: Project; readAt: number }>>();

export function getProjectByToken(db: Database, token: string, now = performance.now()): Project | null {
  let cache = byToken.get(db);
  if (!cache) byToken.set(db, (cache = new Map()));
  const cached = cache.get(token);
  if (cached && now - cached.readAt < TOKEN_CACHE_MS) return cached.project;
  const row = db.query<ProjectRow, [string]>(`SELECT ${COLUMNS} FROM projects WHERE token = ?`).get(token);
  if (!row) {
    cache.delete(token);
    return null;
  }
  const project = toProject(row);
  cache.set(token, { project, readAt: now });
  return project;
}

export function listProjects(db: Database): Project[] {
  return db.query<ProjectRow, []>(`SELECT ${COLUMNS} FROM projects ORDER BY created_at, id`).all().map(toProject);
}

export interface ProjectSettings {
  name?: string;
  currency?: string;
  timezone?: string;
  allowedHostnames?: string[];
  lookbackDays?: number;
  pricingPathPattern?: string;
  verifiedEmailAttributionOnly?: boolean;
  countRenewals?: boolean;
}

export function updateProjectSettings(db: Database, id: string, settings: ProjectSettings): Project | null {
  const current = getProject(db, id);
  if (!current) return null;
  const next = { ...current, ...settings };
  db.query(
    `UPDATE projects SET name = ?, currency = ?, timezone = ?, allowed_hostnames = ?, lookback_days = ?, pricing_path_pattern = ?,
     verified_email_attribution_only = ?, count_renewals = ? WHERE id = ?`,
  ).run(
    next.name,
    next.currency.toUpperCase(),
    next.timezone,
    JSON.stringify(next.allowedHostnames),
    next.lookbackDays,
    next.pricingPathPattern,
    next.verifiedEmailAttributionOnly ? 1 : 0,
    next.countRenewals ? 1 : 0,
    id,
  );
  byToken.get(db)?.delete(current.token);
  return getProject(db, id);
}

function newIdentifySecret(): string {
  return `bt_ids_${randomString(40)}`;
}

/** How long the secret a rotation replaced still verifies, so pages rendered before the site's servers switched keep working. */
export const IDENTIFY_SECRET_GRACE_MS = 24 * 3_600_000;

/** A new identify secret; the replaced one stays valid for IDENTIFY_SECRET_GRACE_MS (revokePreviousIdentifySecret ends that early). */
export function rotateIdentifySecret(db: Database, id: string, now: number): Project | null {
  const current = getProject(db, id);
  if (!current) return null;
  db.query("UPDATE projects SET identify_secret = ?, previous_identify_secret = ?, previous_identify_secret_until = ? WHERE id = ?").run(
    newIdentifySecret(),
    current.identifySecret,
    now + IDENTIFY_SECRET_GRACE_MS,
    id,
  );
  byToken.get(db)?.delete(current.token);
  return getProject(db, id);
}

/** Ends the grace period of the secret the last rotation replaced. */
export function revokePreviousIdentifySecret(db: Database, id: string): Project | null {
  const current = getProject(db, id);
  if (!current) return null;
  db.query("UPDATE projects SET previous_identify_secret = NULL, previous_identify_secret_until = NULL WHERE id = ?").run(id);
  byToken.get(db)?.delete(current.token);
  return getProject(db, id);
}
