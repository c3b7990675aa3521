// Projects: the unit a snippet token, an API key and every report belong to.
import { newId, randomString } from "../core/ids.ts";
import type { Storage } from "../db/storage/storage.ts";

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

export async function createProject(storage: Storage, input: { name: string }, now = Date.now()): Promise<Project> {
  const name = input.name.trim();
  if (!name) throw new Error("a project needs a name");
  const id = newId("prj", 12);
  const token = `bt_pub_${randomString(20)}`;
  await storage.run("INSERT INTO projects (id, name, token, identify_secret, created_at) VALUES (?, ?, ?, ?, ?)", [id, name, token, newIdentifySecret(), now]);
  return (await getProject(storage, id))!;
}

export async function getProject(storage: Storage, id: string): Promise<Project | null> {
  const row = await storage.get<ProjectRow>(`SELECT ${COLUMNS} FROM projects WHERE id = ?`, [id]);
  return row ? toProject(row) : null;
}

// Collect looks its project up by token on every event. A copy at most a second old is fresh
// enough: settings saved on this node drop it at once, and another node's (or process's) within a second.
const TOKEN_CACHE_MS = 1000;
const byToken = new WeakMap<Storage, Map<string, { project: Project; readAt: number }>>();

/** The project whose snippet token this is: from a copy at most a second old, without a query (the collect path). */
export function cachedProjectByToken(storage: Storage, token: string, now = performance.now()): Project | undefined {
  const cached = byToken.get(storage)?.get(token);
  return cached && now - cached.readAt < TOKEN_CACHE_MS ? cached.project : undefined;
}

export async function getProjectByToken(storage: Storage, token: string, now = performance.now()): Promise<Project | null> {
  const cached = cachedProjectByToken(storage, token, now);
  if (cached) return cached;
  let cache = byToken.get(storage);
  if (!cache) byToken.set(storage, (cache = new Map()));
  const row = await storage.get<ProjectRow>(`SELECT ${COLUMNS} FROM projects WHERE token = ?`, [token]);
  if (!row) {
    cache.delete(token);
    return null;
  }
  const project = toProject(row);
  cache.set(token, { project, readAt: now });
  return project;
}

export async function listProjects(storage: Storage): Promise<Project[]> {
  return (await storage.all<ProjectRow>(`SELECT ${COLUMNS} FROM projects ORDER BY created_at, id`)).map(toProject);
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

export async function updateProjectSettings(storage: Storage, id: string, settings: ProjectSettings): Promise<Project | null> {
  const current = await getProject(storage, id);
  if (!current) return null;
  const next = { ...current, ...settings };
  await storage.run(
    `UPDATE projects SET name = ?, currency = ?, timezone = ?, allowed_hostnames = ?, lookback_days = ?, pricing_path_pattern = ?,
     verified_email_attribution_only = ?, count_renewals = ? WHERE id = ?`,
    [
      next.name,
      next.currency.toUpperCase(),
      next.timezone,
      JSON.stringify(next.allowedHostnames),
      next.lookbackDays,
      next.pricingPathPattern,
      next.verifiedEmailAttributionOnly ? 1 : 0,
      next.countRenewals ? 1 : 0,
      id,
    ],
  );
  byToken.get(storage)?.delete(current.token);
  return getProject(storage, id);
}

function newIdentifySecret(): string {
  return `bt_ids_${randomString(40)}`;
}

/** How long the secret a rotation replaced still verifies, so pages rendered before the site's servers switched keep working. */
export const IDENTIFY_SECRET_GRACE_MS = 24 * 3_600_000;

/** A new identify secret; the replaced one stays valid for IDENTIFY_SECRET_GRACE_MS (revokePreviousIdentifySecret ends that early). */
export async function rotateIdentifySecret(storage: Storage, id: string, now: number): Promise<Project | null> {
  const current = await getProject(storage, id);
  if (!current) return null;
  await storage.run("UPDATE projects SET identify_secret = ?, previous_identify_secret = ?, previous_identify_secret_until = ? WHERE id = ?", [
    newIdentifySecret(),
    current.identifySecret,
    now + IDENTIFY_SECRET_GRACE_MS,
    id,
  ]);
  byToken.get(storage)?.delete(current.token);
  return getProject(storage, id);
}

/** Ends the grace period of the secret the last rotation replaced. */
export async function revokePreviousIdentifySecret(storage: Storage, id: string): Promise<Project | null> {
  const current = await getProject(storage, id);
  if (!current) return null;
  await storage.run("UPDATE projects SET previous_identify_secret = NULL, previous_identify_secret_until = NULL WHERE id = ?", [id]);
  byToken.get(storage)?.delete(current.token);
  return getProject(storage, id);
}
