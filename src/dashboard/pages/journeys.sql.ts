// Raw events for the live view and a profile's journey; profiles (identified users) for their list.
import type { Database } from "bun:sqlite";
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

const eventColumns = (t: string) => `${t}.id, ${t}.ts, ${t}.name, ${t}.visitor_id AS visitorId, ${t}.session_id AS sessionId,
  ${t}.profile_id AS profileId, ${t}.path, ${t}.props, ${t}.link_id AS linkId, ${t}.campaign_id AS campaignId, ${t}.source, ${t}.medium,
  ${t}.content, ${t}.lead_id AS leadId`;
const EVENT_COLUMNS = eventColumns("events");

/** The newest events of the project (the live view polls this: one short walk down the ts index). */
export function latestEvents(db: Database, projectId: string, limit = 50): EventRow[] {
  return db.query<EventRow, [string, number]>(`SELECT ${EVENT_COLUMNS} FROM events WHERE project_id = ? ORDER BY ts DESC, id DESC LIMIT ?`).all(projectId, limit);
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

/** Identified users, most recently updated first; `search` matches the start of an email or id. */
export function listProfiles(db: Database, projectId: string, options: { search?: string; limit?: number } = {}): ProfileRow[] {
  const search = options.search?.trim().toLowerCase() || null;
  const prefix = search ? `${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
  return db
    .query<ProfileRow, [string, string | null, number]>(
      `SELECT p.id, p.email, p.name, p.traits, p.created_at AS createdAt, p.updated_at AS updatedAt,
         (SELECT count(*) FROM profile_visitors v WHERE v.project_id = p.project_id AND v.profile_id = p.id) AS visitors
       FROM profiles p
       WHERE p.project_id = ?1 AND (?2 IS NULL OR p.email LIKE ?2 ESCAPE '\\' OR p.id LIKE ?2 ESCAPE '\\')
       ORDER BY p.updated_at DESC LIMIT ?3`,
    )
    .all(projectId, prefix, options.limit ?? 100);
}

export function findProfile(db: Database, projectId: string, profileId: string): Omit<ProfileRow, "visitors"> | null {
  return db
    .query<Omit<ProfileRow, "visitors">, [string, string]>(
      `SELECT id, email, name, traits, created_at AS createdAt, updated_at AS updatedAt FROM profiles WHERE project_id = ? AND id = ?`,
    )
    .get(projectId, profileId);
}

/** Every event of every visitor that identified as the profile, oldest first (the journey). */
export function profileJourney(db: Database, projectId: string, profileId: string, limit = 500): EventRow[] {
  // CROSS JOIN keeps the profile's few visitors as the outer loop, so each is an events_visitor lookup.
  return db
    .query<EventRow, [string, string, number]>(
      `SELECT ${eventColumns("e")} FROM profile_visitors v CROSS JOIN events e
       WHERE v.project_id = ?1 AND v.profile_id = ?2 AND e.project_id = v.project_id AND e.visitor_id = v.visitor_id
       ORDER BY e.ts, e.id LIMIT ?3`,
    )
    .all(projectId, profileId, limit);
}

/** Every event of one visitor, oldest first: the journey of someone who never identified. */
export function visitorJourney(db: Database, projectId: string, visitorId: string, limit = 500): EventRow[] {
  return db
    .query<EventRow, [string, string, number]>(`SELECT ${EVENT_COLUMNS} FROM events WHERE project_id = ? AND visitor_id = ? ORDER BY ts, id LIMIT ?`)
    .all(projectId, visitorId, limit);
}

/** One page of the range's events in (ts, id) order after the cursor, for the CSV export. */
export function eventsAfter(db: Database, projectId: string, range: { from: number; to: number }, after: { ts: number; id: number } | null, limit: number): EventRow[] {
  return db
    .query<EventRow, [string, number, number, number, number, number]>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE project_id = ?1 AND ts >= ?2 AND ts < ?3 AND (ts > ?4 OR (ts = ?4 AND id > ?5))
       ORDER BY ts, id LIMIT ?6`,
    )
    .all(projectId, range.from, range.to, after?.ts ?? -1, after?.id ?? -1, limit);
}
