// Raw events for the live view and a profile's journey; profiles (identified users) for their list.
// Read through the storage, so on either engine; the SQL is the same text on both but where noted.
import type { Storage } from "../../db/storage/storage.ts";
import { perEngine } from "../../db/postgres/dialect.ts";
import type { AttributionContext } from "../../tracking/attribution-context.ts";

export interface EventRow extends AttributionContext {
  id: number;
  ts: number;
  name: string;
  visitorId: string | null;
  sessionId: string | null;
  profileId: string | null;
  path: string | null;
  props: string | null;
}

// Quoted names: PostgreSQL would fold `AS visitorId` to visitorid.
const eventColumns = (t: string) => `${t}.id, ${t}.ts, ${t}.name, ${t}.visitor_id AS "visitorId", ${t}.session_id AS "sessionId",
  ${t}.profile_id AS "profileId", ${t}.path, ${t}.props, ${t}.link_id AS "linkId", ${t}.campaign_id AS "campaignId", ${t}.source, ${t}.medium,
  ${t}.content, ${t}.lead_id AS "leadId"`;
const EVENT_COLUMNS = eventColumns("events");

/** The newest events of the project (the live view polls this: one short walk down the ts index). */
export function latestEvents(storage: Storage, projectId: string, limit = 50): Promise<EventRow[]> {
  return storage.all<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE project_id = ? ORDER BY ts DESC, id DESC LIMIT ?`, [projectId, limit]);
}

export interface ProfileRow {
  id: string;
  email: string | null;
  name: string | null;
  traits: string;
  createdAt: number;
  updatedAt: number;
  visitors: number;
}

const PROFILE_SELECT = `SELECT p.id, p.email, p.name, p.traits, p.created_at AS "createdAt", p.updated_at AS "updatedAt",
    (SELECT count(*) FROM profile_visitors v WHERE v.project_id = p.project_id AND v.profile_id = p.id) AS visitors
  FROM profiles p WHERE p.project_id = ?`;

/**
 * A search by prefix. SQLite's LIKE ignores ASCII case only; PostgreSQL's ILIKE under COLLATE "C"
 * folds ASCII alone as well.
 */
const PROFILE_SEARCH = perEngine((engine) => {
  const like = (column: string) => (engine === "sqlite" ? `${column} LIKE ? ESCAPE '\\'` : `${column} COLLATE "C" ILIKE ? ESCAPE '\\'`);
  return `${PROFILE_SELECT} AND (${like("p.email")} OR ${like("p.id")}) ORDER BY p.updated_at DESC LIMIT ?`;
});

/** Identified users, most recently updated first; `search` matches the start of an email or id. */
export function listProfiles(storage: Storage, projectId: string, options: { search?: string; limit?: number } = {}): Promise<ProfileRow[]> {
  const search = options.search?.trim().toLowerCase() || null;
  const limit = options.limit ?? 100;
  if (!search) return storage.all<ProfileRow>(`${PROFILE_SELECT} ORDER BY p.updated_at DESC LIMIT ?`, [projectId, limit]);
  const prefix = `${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return storage.all<ProfileRow>(PROFILE_SEARCH[storage.engine], [projectId, prefix, prefix, limit]);
}

export function findProfile(storage: Storage, projectId: string, profileId: string): Promise<Omit<ProfileRow, "visitors"> | null> {
  return storage.get<Omit<ProfileRow, "visitors">>(
    `SELECT id, email, name, traits, created_at AS "createdAt", updated_at AS "updatedAt" FROM profiles WHERE project_id = ? AND id = ?`,
    [projectId, profileId],
  );
}

/** Every event of every visitor that identified as the profile, oldest first (the journey). */
export function profileJourney(storage: Storage, projectId: string, profileId: string, limit = 500): Promise<EventRow[]> {
  // CROSS JOIN keeps the profile's few visitors as the outer loop, so each is an events_visitor lookup.
  return storage.all<EventRow>(
    `SELECT ${eventColumns("e")} FROM profile_visitors v CROSS JOIN events e
     WHERE v.project_id = ? AND v.profile_id = ? AND e.project_id = v.project_id AND e.visitor_id = v.visitor_id
     ORDER BY e.ts, e.id LIMIT ?`,
    [projectId, profileId, limit],
  );
}

/** Every event of one visitor, oldest first: the journey of someone who never identified. */
export function visitorJourney(storage: Storage, projectId: string, visitorId: string, limit = 500): Promise<EventRow[]> {
  return storage.all<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE project_id = ? AND visitor_id = ? ORDER BY ts, id LIMIT ?`, [projectId, visitorId, limit]);
}

/** One page of the range's events in (ts, id) order after the cursor, for the CSV export. */
export function eventsAfter(storage: Storage, projectId: string, range: { from: number; to: number }, after: { ts: number; id: number } | null, limit: number): Promise<EventRow[]> {
  const ts = after?.ts ?? -1;
  return storage.all<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM events WHERE project_id = ? AND ts >= ? AND ts < ? AND (ts > ? OR (ts = ? AND id > ?))
     ORDER BY ts, id LIMIT ?`,
    [projectId, range.from, range.to, ts, ts, after?.id ?? -1, limit],
  );
}
