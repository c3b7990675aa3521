// Tracked links with their traffic in a date range, for the links list and the per-link page.
import type { Database } from "bun:sqlite";
import type { TimeRange } from "./time.ts";
import { DIMENSIONS, type Dimension, type Traffic } from "./traffic.sql.ts";

export interface LinkRow {
  id: string;
  slug: string;
  destinationUrl: string;
  campaignId: string | null;
  source: string | null;
  medium: string | null;
  content: string | null;
  leadId: string | null;
  title: string;
  archived: boolean;
  createdAt: number;
}

const LINK_COLUMNS = `l.id, l.slug, l.destination_url AS destinationUrl, l.campaign_id AS campaignId, l.source, l.medium, l.content,
  l.lead_id AS leadId, l.title, l.archived, l.created_at AS createdAt`;

type RawLink = Omit<LinkRow, "archived"> & { archived: number };
const toLink = (row: RawLink): LinkRow => ({ ...row, archived: row.archived === 1 });

export interface LinkListOptions {
  archived: boolean;
  /** Matches title, slug, destination, campaign or source. */
  search?: string;
  limit?: number;
}

/** A project's links with clicks, visitors and signups in the range, most clicked first, then newest. */
export function linksWithTraffic(
  db: Database,
  projectId: string,
  range: TimeRange,
  options: LinkListOptions,
): (LinkRow & Pick<Traffic, "clicks" | "visitors" | "signups">)[] {
  const search = options.search?.trim() ? `%${options.search.trim().replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
  const rows = db
    .query<RawLink & { clicks: number; visitors: number; signups: number }, [string, number, number, string, number, string | null, number]>(
      `WITH traffic AS (
         SELECT link_id, sum(clicks) AS clicks, sum(visitors) AS visitors, sum(signups) AS signups
         FROM context_stats_hourly WHERE project_id = ? AND hour >= ? AND hour < ? AND link_id != '' GROUP BY link_id
       )
       SELECT ${LINK_COLUMNS}, coalesce(t.clicks, 0) AS clicks, coalesce(t.visitors, 0) AS visitors, coalesce(t.signups, 0) AS signups
       FROM links l LEFT JOIN traffic t ON t.link_id = l.id
       WHERE l.project_id = ? AND l.archived = ?
         AND (?6 IS NULL OR l.title LIKE ?6 ESCAPE '\\' OR l.slug LIKE ?6 ESCAPE '\\' OR l.destination_url LIKE ?6 ESCAPE '\\'
              OR l.campaign_id LIKE ?6 ESCAPE '\\' OR l.source LIKE ?6 ESCAPE '\\')
       ORDER BY clicks DESC, l.created_at DESC LIMIT ?`,
    )
    .all(projectId, range.from, range.to, projectId, options.archived ? 1 : 0, search, options.limit ?? 500);
  return rows.map((row) => ({ ...toLink(row), clicks: row.clicks, visitors: row.visitors, signups: row.signups }));
}

export function findLink(db: Database, projectId: string, linkId: string): LinkRow | null {
  const row = db.query<RawLink, [string, string]>(`SELECT ${LINK_COLUMNS} FROM links l WHERE l.project_id = ? AND l.id = ?`).get(projectId, linkId);
  return row ? toLink(row) : null;
}

/** Links whose context has `value` for `column` (a drill-down from an attribution report row). */
export function linksWithContext(db: Database, projectId: string, dimension: Dimension, value: string): LinkRow[] {
  const column = DIMENSIONS[dimension];
  return db
    .query<RawLink, [string, string]>(`SELECT ${LINK_COLUMNS} FROM links l WHERE l.project_id = ? AND coalesce(l.${column}, '') = ? ORDER BY l.created_at DESC LIMIT 200`)
    .all(projectId, value)
    .map(toLink);
}
