// Tracked links with their traffic in a date range, for the links list and the report drill-downs.
import type { Database } from "bun:sqlite";
import { LINK_SELECT, toLink, type LinkRow, type TrackedLink } from "../../links/rows.ts";
import { DIMENSIONS, type Dimension } from "./traffic.sql.ts";
import type { AttributionReportRow } from "../../reports/attribution.ts";

/** A link with what it brought in the period: clicks, people, customers, revenue. */
export type LinkWithTraffic = TrackedLink & { stats: AttributionReportRow | null };

const likePattern = (search: string) => `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export interface LinkListOptions {
  archived: boolean;
  /** Matches title, slug, destination, campaign or source. */
  search?: string;
  limit?: number;
}

/** A project's links with the attribution report's rows (keyed by link id): most clicked first, then newest. */
export function linksWithTraffic(db: Database, projectId: string, report: AttributionReportRow[], options: LinkListOptions): LinkWithTraffic[] {
  const search = options.search?.trim() ? likePattern(options.search.trim()) : null;
  const links = db
    .query<LinkRow, [string, number, string | null]>(
      `${LINK_SELECT} WHERE l.project_id = ?1 AND l.archived = ?2
         AND (?3 IS NULL OR l.title LIKE ?3 ESCAPE '\\' OR l.slug LIKE ?3 ESCAPE '\\' OR l.destination_url LIKE ?3 ESCAPE '\\'
              OR l.campaign_id LIKE ?3 ESCAPE '\\' OR l.source LIKE ?3 ESCAPE '\\')
       ORDER BY l.created_at DESC, l.id DESC`,
    )
    .all(projectId, options.archived ? 1 : 0, search)
    .map(toLink);
  const stats = new Map(report.map((row) => [row.key, row]));
  return links
    .map((link) => ({ ...link, stats: stats.get(link.linkId) ?? null }))
    .sort((a, b) => (b.stats?.clicks ?? 0) - (a.stats?.clicks ?? 0) || (b.stats?.visitors ?? 0) - (a.stats?.visitors ?? 0))
    .slice(0, options.limit ?? 200);
}

/** Links whose context has `value` for `dimension` ('' = none): a drill-down from a report row. */
export function linksWithContext(db: Database, projectId: string, dimension: Dimension, value: string): TrackedLink[] {
  const column = DIMENSIONS[dimension];
  return db
    .query<LinkRow, [string, string]>(`${LINK_SELECT} WHERE l.project_id = ? AND coalesce(l.${column}, '') = ? ORDER BY l.created_at DESC LIMIT 200`)
    .all(projectId, value)
    .map(toLink);
}
