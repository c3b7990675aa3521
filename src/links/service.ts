// Tracked links: create, read, update, archive and delete, with the validation the API and dashboard share.
import type { Database } from "bun:sqlite";
import type { z } from "zod";
import { newId, randomString } from "../core/ids.ts";
import { badRequest, conflict, notFound } from "../http/errors.ts";
import { describeIssue, linkCreateSchema, linkUpdateSchema, type LinkCreateInput, type LinkUpdateInput } from "./model.ts";
import { forgetLink, rememberLink } from "./directory.ts";
import { LINK_SELECT, toLink, type LinkRow, type TrackedLink } from "./rows.ts";

export type { TrackedLink };

const GENERATED_SLUG_LENGTH = 7;

function validate<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw badRequest(describeIssue(parsed.error), "invalid_link");
  return parsed.data;
}

function slugTaken(db: Database, slug: string, exceptLinkId?: string): boolean {
  const row = db.query<{ id: string }, [string]>("SELECT id FROM links WHERE slug = ?").get(slug);
  return row !== null && row.id !== exceptLinkId;
}

function generateSlug(db: Database): string {
  for (let attempt = 0; attempt < 10; attempt++) {
    const slug = randomString(GENERATED_SLUG_LENGTH + Math.floor(attempt / 3));
    if (!slugTaken(db, slug)) return slug;
  }
  throw new Error("could not generate a free slug");
}

/** Campaigns and leads exist as soon as a link names them (SPEC §2). */
export function ensureCampaignAndLead(db: Database, projectId: string, campaignId: string | null, leadId: string | null, now: number): void {
  if (campaignId) db.query("INSERT OR IGNORE INTO campaigns (project_id, campaign_id, created_at) VALUES (?, ?, ?)").run(projectId, campaignId, now);
  if (leadId) db.query("INSERT OR IGNORE INTO leads (project_id, lead_id, created_at) VALUES (?, ?, ?)").run(projectId, leadId, now);
}

/** Throws ApiError 400 (invalid input) or 409 (slug taken). */
export function createLink(db: Database, projectId: string, input: LinkCreateInput, now = Date.now()): TrackedLink {
  const data = validate(linkCreateSchema, input);
  const link = db.transaction(() => {
    if (data.slug !== undefined && slugTaken(db, data.slug)) throw conflict(`the slug "${data.slug}" is already taken`, "slug_taken");
    const slug = data.slug ?? generateSlug(db);
    const linkId = newId("lnk", 14);
    db.query(
      `INSERT INTO links (id, project_id, slug, destination_url, campaign_id, source, medium, content, lead_id, title, archived, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)`,
    ).run(linkId, projectId, slug, data.destinationUrl, data.campaignId, data.source, data.medium, data.content, data.leadId, data.title ?? "", now, now);
    ensureCampaignAndLead(db, projectId, data.campaignId, data.leadId, now);
    return getLink(db, projectId, linkId)!;
  }).immediate();
  rememberLink(db, link);
  return link;
}

export function getLink(db: Database, projectId: string, linkId: string): TrackedLink | null {
  const row = db.query<LinkRow, [string, string]>(`${LINK_SELECT} WHERE l.id = ? AND l.project_id = ?`).get(linkId, projectId);
  return row ? toLink(row) : null;
}

export interface LinkListOptions {
  includeArchived?: boolean;
  campaignId?: string;
  limit?: number;
  offset?: number;
}

/** Newest first. */
export function listLinks(db: Database, projectId: string, options: LinkListOptions = {}): TrackedLink[] {
  const limit = Math.min(Math.max(options.limit ?? 100, 1), 1000);
  const offset = Math.max(options.offset ?? 0, 0);
  return db
    .query<LinkRow, [string, number, string | null, string | null, number, number]>(
      `${LINK_SELECT} WHERE l.project_id = ? AND (? = 1 OR l.archived = 0) AND (? IS NULL OR l.campaign_id = ?)
       ORDER BY l.created_at DESC, l.id DESC LIMIT ? OFFSET ?`,
    )
    .all(projectId, options.includeArchived ? 1 : 0, options.campaignId ?? null, options.campaignId ?? null, limit, offset)
    .map(toLink);
}

/** Changes only the fields given; throws ApiError 400, 404 or 409. */
export function updateLink(db: Database, projectId: string, linkId: string, input: LinkUpdateInput, now = Date.now()): TrackedLink {
  const patch = validate(linkUpdateSchema, input);
  const { link, previousSlug } = db.transaction(() => {
    const current = getLink(db, projectId, linkId);
    if (!current) throw notFound("no such link");
    if (patch.slug !== undefined && patch.slug !== current.slug && slugTaken(db, patch.slug, linkId)) {
      throw conflict(`the slug "${patch.slug}" is already taken`, "slug_taken");
    }
    const next = {
      slug: patch.slug ?? current.slug,
      destinationUrl: patch.destinationUrl ?? current.destinationUrl,
      title: patch.title ?? current.title,
      archived: patch.archived ?? current.archived,
      campaignId: patch.campaignId === undefined ? current.campaignId : patch.campaignId,
      source: patch.source === undefined ? current.source : patch.source,
      medium: patch.medium === undefined ? current.medium : patch.medium,
      content: patch.content === undefined ? current.content : patch.content,
      leadId: patch.leadId === undefined ? current.leadId : patch.leadId,
    };
    db.query(
      `UPDATE links SET slug = ?, destination_url = ?, title = ?, archived = ?, campaign_id = ?, source = ?, medium = ?, content = ?,
       lead_id = ?, updated_at = ? WHERE id = ?`,
    ).run(next.slug, next.destinationUrl, next.title, next.archived ? 1 : 0, next.campaignId, next.source, next.medium, next.content, next.leadId, now, linkId);
    ensureCampaignAndLead(db, projectId, next.campaignId, next.leadId, now);
    return { link: getLink(db, projectId, linkId)!, previousSlug: current.slug };
  }).immediate();
  if (previousSlug !== link.slug) forgetLink(db, previousSlug);
  rememberLink(db, link);
  return link;
}

/** Deletes the link; its clicks and events stay in the history. Throws ApiError 404. */
export function deleteLink(db: Database, projectId: string, linkId: string): void {
  const link = getLink(db, projectId, linkId);
  if (!link) throw notFound("no such link");
  db.transaction(() => {
    db.query("DELETE FROM link_counters WHERE link_id = ?").run(linkId);
    db.query("DELETE FROM links WHERE id = ?").run(linkId);
  }).immediate();
  forgetLink(db, link.slug);
}
