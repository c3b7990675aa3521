// The redirect's lookup table: every active link by slug, in memory, kept in sync by the link service.
import type { Database } from "bun:sqlite";
import type { AttributionContext } from "../tracking/attribution-context.ts";
import { LINK_SELECT, toLink, type LinkRow, type TrackedLink } from "./rows.ts";

export interface ActiveLink {
  linkId: string;
  projectId: string;
  slug: string;
  destinationUrl: string;
  context: AttributionContext;
}

const directories = new WeakMap<Database, Map<string, ActiveLink>>();

function toActiveLink(link: TrackedLink): ActiveLink {
  const { linkId, projectId, slug, destinationUrl, campaignId, source, medium, content, leadId } = link;
  return { linkId, projectId, slug, destinationUrl, context: { linkId, campaignId, source, medium, content, leadId } };
}

function directory(db: Database): Map<string, ActiveLink> {
  let links = directories.get(db);
  if (!links) {
    links = new Map();
    for (const row of db.query<LinkRow, []>(`${LINK_SELECT} WHERE l.archived = 0`).all()) links.set(row.slug, toActiveLink(toLink(row)));
    directories.set(db, links);
  }
  return links;
}

/** The active link for a slug, from memory. */
export function findActiveLink(db: Database, slug: string): ActiveLink | null {
  return directory(db).get(slug) ?? null;
}

/** Called by the link service after every change; before the first lookup there is nothing to keep in sync. */
export function rememberLink(db: Database, link: TrackedLink): void {
  const links = directories.get(db);
  if (!links) return;
  if (link.archived) links.delete(link.slug);
  else links.set(link.slug, toActiveLink(link));
}

export function forgetLink(db: Database, slug: string): void {
  directories.get(db)?.delete(slug);
}
