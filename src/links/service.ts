// Tracked links: create, read, update, archive and delete, with the validation the API and dashboard share.
// Each change is a transaction of its own on the node's storage (ctx.storage), not on an open transaction's:
// that node's link directory follows once it commits.
import type { z } from "zod";
import { isUniqueViolation, type Storage } from "../db/storage/storage.ts";
import { newId, randomString } from "../core/ids.ts";
import { badRequest, conflict, notFound } from "../http/errors.ts";
import { describeIssue, linkCreateSchema, linkUpdateSchema, type LinkCreateInput, type LinkUpdateInput } from "./model.ts";
import { announceLinkChange, rememberLink } from "./directory.ts";
import { LINK_SELECT, toLink, type LinkRow, type TrackedLink } from "./rows.ts";

export type { TrackedLink };

const GENERATED_SLUG_LENGTH = 7;
const GENERATED_SLUG_ATTEMPTS = 10;

function validate<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw badRequest(describeIssue(parsed.error), "invalid_link");
  return parsed.data;
}

const slugTaken = (slug: string) => conflict(`the slug "${slug}" is already taken`, "slug_taken");

/** Campaigns and leads exist as soon as a link names them (SPEC §2). */
export async function ensureCampaignAndLead(storage: Storage, projectId: string, campaignId: string | null, leadId: string | null, now: number): Promise<void> {
  if (campaignId) await storage.run("INSERT INTO campaigns (project_id, campaign_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", [projectId, campaignId, now]);
  if (leadId) await storage.run("INSERT INTO leads (project_id, lead_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", [projectId, leadId, now]);
}

// A slug taken in the meantime by another request (or node) inserts nothing instead of failing the transaction.
const INSERT_LINK = `INSERT INTO links (id, project_id, slug, destination_url, campaign_id, source, medium, content, lead_id, title, archived, created_at, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT (slug) DO NOTHING`;

/** Throws ApiError 400 (invalid input) or 409 (slug taken). */
export async function createLink(storage: Storage, projectId: string, input: LinkCreateInput, now = Date.now()): Promise<TrackedLink> {
  const data = validate(linkCreateSchema, input);
  const linkId = newId("lnk", 14);
  const link = await storage.transaction(async (tx) => {
    for (let attempt = 0; ; attempt++) {
      const slug = data.slug ?? randomString(GENERATED_SLUG_LENGTH + Math.floor(attempt / 3));
      const values = [linkId, projectId, slug, data.destinationUrl, data.campaignId, data.source, data.medium, data.content, data.leadId, data.title ?? "", now, now];
      if ((await tx.run(INSERT_LINK, values)).changes === 1) break;
      if (data.slug !== undefined) throw slugTaken(data.slug);
      if (attempt === GENERATED_SLUG_ATTEMPTS - 1) throw new Error("could not generate a free slug");
    }
    await ensureCampaignAndLead(tx, projectId, data.campaignId, data.leadId, now);
    await announceLinkChange(tx, linkId);
    return (await getLink(tx, projectId, linkId))!;
  });
  rememberLink(storage, link.linkId, link);
  return link;
}

export async function getLink(storage: Storage, projectId: string, linkId: string): Promise<TrackedLink | null> {
  const row = await storage.get<LinkRow>(`${LINK_SELECT} WHERE l.id = ? AND l.project_id = ?`, [linkId, projectId]);
  return row ? toLink(row) : null;
}

export interface LinkListOptions {
  includeArchived?: boolean;
  campaignId?: string;
  limit?: number;
  offset?: number;
}

/** Newest first. */
export async function listLinks(storage: Storage, projectId: string, options: LinkListOptions = {}): Promise<TrackedLink[]> {
  const limit = Math.min(Math.max(options.limit ?? 100, 1), 1000);
  const offset = Math.max(options.offset ?? 0, 0);
  const rows = await storage.all<LinkRow>(
    `${LINK_SELECT} WHERE l.project_id = ? AND (? = 1 OR l.archived = 0) AND (CAST(? AS TEXT) IS NULL OR l.campaign_id = ?)
     ORDER BY l.created_at DESC, l.id DESC LIMIT ? OFFSET ?`,
    [projectId, options.includeArchived ? 1 : 0, options.campaignId ?? null, options.campaignId ?? null, limit, offset],
  );
  return rows.map(toLink);
}

/** Changes only the fields given; throws ApiError 400, 404 or 409. */
export async function updateLink(storage: Storage, projectId: string, linkId: string, input: LinkUpdateInput, now = Date.now()): Promise<TrackedLink> {
  const patch = validate(linkUpdateSchema, input);
  const link = await storage.transaction(async (tx) => {
    // The link stays as read until this commits: on PostgreSQL another node's edit would otherwise be
    // overwritten with the fields read before it (SQLite's transaction already holds the writer lock).
    if (tx.engine === "postgres") await tx.run("SELECT 1 FROM links WHERE id = ? FOR UPDATE", [linkId]);
    const current = await getLink(tx, projectId, linkId);
    if (!current) throw notFound("no such link");
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
    try {
      await tx.run(
        `UPDATE links SET slug = ?, destination_url = ?, title = ?, archived = ?, campaign_id = ?, source = ?, medium = ?, content = ?,
         lead_id = ?, updated_at = ? WHERE id = ?`,
        [next.slug, next.destinationUrl, next.title, next.archived ? 1 : 0, next.campaignId, next.source, next.medium, next.content, next.leadId, now, linkId],
      );
    } catch (error) {
      if (isUniqueViolation(error)) throw slugTaken(next.slug);
      throw error;
    }
    await ensureCampaignAndLead(tx, projectId, next.campaignId, next.leadId, now);
    await announceLinkChange(tx, linkId);
    return (await getLink(tx, projectId, linkId))!;
  });
  rememberLink(storage, link.linkId, link);
  return link;
}

/** Deletes the link; its clicks and events stay in the history. Throws ApiError 404. */
export async function deleteLink(storage: Storage, projectId: string, linkId: string): Promise<void> {
  await storage.transaction(async (tx) => {
    if (!(await getLink(tx, projectId, linkId))) throw notFound("no such link");
    await tx.run("DELETE FROM link_counters WHERE link_id = ?", [linkId]);
    await tx.run("DELETE FROM links WHERE id = ?", [linkId]);
    await announceLinkChange(tx, linkId);
  });
  rememberLink(storage, linkId, null);
}
