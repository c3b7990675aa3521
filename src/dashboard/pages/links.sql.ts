// Tracked links with their traffic in a date range, for the links list and the report drill-downs.
import type { Engine, Storage } from "../../db/storage/storage.ts";
import { perEngine } from "../../db/postgres/dialect.ts";
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

/**
 * The list's reads on either engine, without and with a search: SQLite's LIKE ignores ASCII case and
 * compares bytes, as PostgreSQL's ILIKE does under COLLATE "C"; ids tied on creation order by bytes on both.
 */
function linkList(engine: Engine, searching: boolean): string {
  const like = (column: string) => (engine === "sqlite" ? `${column} LIKE ? ESCAPE '\\'` : `${column} COLLATE "C" ILIKE ? ESCAPE '\\'`);
  const search = ["l.title", "l.slug", "l.destination_url", "l.campaign_id", "l.source"].map(like).join(" OR ");
  return `${LINK_SELECT} WHERE l.project_id = ? AND l.archived = ?${searching ? ` AND (${search})` : ""}
     ORDER BY l.created_at DESC, l.id${engine === "postgres" ? ' COLLATE "C"' : ""} DESC`;
}
const LINK_LIST = perEngine((engine) => linkList(engine, false));
const LINK_SEARCH = perEngine((engine) => linkList(engine, true));

/** A project's links with the attribution report's rows (keyed by link id): most clicked first, then newest. */
export async function linksWithTraffic(storage: Storage, projectId: string, report: AttributionReportRow[], options: LinkListOptions): Promise<LinkWithTraffic[]> {
  const archived = options.archived ? 1 : 0;
  const search = options.search?.trim() ? likePattern(options.search.trim()) : null;
  const rows = await storage.all<LinkRow>((search ? LINK_SEARCH : LINK_LIST)[storage.engine], search ? [projectId, archived, ...Array<string>(5).fill(search)] : [projectId, archived]);
  const links = rows.map(toLink);
  const stats = new Map(report.map((row) => [row.key, row]));
  return links
    .map((link) => ({ ...link, stats: stats.get(link.linkId) ?? null }))
    .sort((a, b) => (b.stats?.clicks ?? 0) - (a.stats?.clicks ?? 0) || (b.stats?.visitors ?? 0) - (a.stats?.visitors ?? 0))
    .slice(0, options.limit ?? 200);
}

/** Links whose context has `value` for `dimension` ('' = none): a drill-down from a report row. */
export async function linksWithContext(storage: Storage, projectId: string, dimension: Dimension, value: string): Promise<TrackedLink[]> {
  const column = DIMENSIONS[dimension];
  const rows = await storage.all<LinkRow>(`${LINK_SELECT} WHERE l.project_id = ? AND coalesce(l.${column}, '') = ? ORDER BY l.created_at DESC LIMIT 200`, [projectId, value]);
  return rows.map(toLink);
}
