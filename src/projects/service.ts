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
  count_renewals: number;
  created_at: number;
}

const COLUMNS = "id, name, token, currency, timezone, allowed_hostnames, lookback_days, pricing_path_pattern, count_renewals, created_at";

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
    countRenewals: row.count_renewals !== 0,
    createdAt: row.created_at,
  };
}

export function createProject(db: Database, input: { name: string }, now = Date.now()): Project {
  const name = input.name.trim();
  if (!name) throw new Error("a project needs a name");
  const id = newId("prj", 12);
  const token = `bt_pub_${randomString(20)}`;
  db.query("INSERT INTO projects (id, name, token, created_at) VALUES (?, ?, ?, ?)").run(id, name, token, now);
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
  countRenewals?: boolean;
}

export function updateProjectSettings(db: Database, id: string, settings: ProjectSettings): Project | null {
  const current = getProject(db, id);
  if (!current) return null;
  const next = { ...current, ...settings };
  db.query(
    `UPDATE projects SET name = ?, currency = ?, timezone = ?, allowed_hostnames = ?, lookback_days = ?, pricing_path_pattern = ?, count_renewals = ?
     WHERE id = ?`,
  ).run(
    next.name,
    next.currency.toUpperCase(),
    next.timezone,
    JSON.stringify(next.allowedHostnames),
    next.lookbackDays,
    next.pricingPathPattern,
    next.countRenewals ? 1 : 0,
    id,
  );
  byToken.get(db)?.delete(current.token);
  return getProject(db, id);
}
