// /api/v1/links: tracked links over the REST API (SPEC §6).
import { Elysia } from "elysia";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import { publicBaseUrl } from "../config.ts";
import { resolveApiProject } from "../api/auth.ts";
import type { ApiOperation } from "../api/openapi.ts";
import { notFound } from "../http/errors.ts";
import { linkCreateSchema, linkUpdateSchema } from "./model.ts";
import { createLink, deleteLink, getLink, listLinks, updateLink, type TrackedLink } from "./service.ts";

export const linkResponse = z.object({
  linkId: z.string(),
  slug: z.string(),
  shortUrl: z.string(),
  destinationUrl: z.string(),
  campaignId: z.string().nullable(),
  source: z.string().nullable(),
  medium: z.string().nullable(),
  content: z.string().nullable(),
  leadId: z.string().nullable(),
  title: z.string(),
  archived: z.boolean(),
  clicks: z.number().int(),
  lastClickedAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const listQuery = z.object({
  includeArchived: z.enum(["true", "false"]).optional(),
  campaignId: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  offset: z.coerce.number().int().min(0).optional(),
});

export const linkOperations: ApiOperation[] = [
  { method: "post", path: "/links", summary: "Create a tracked link", tag: "links", body: linkCreateSchema, response: linkResponse, successStatus: 201 },
  { method: "get", path: "/links", summary: "List tracked links, newest first", tag: "links", query: listQuery, response: z.object({ links: z.array(linkResponse) }) },
  { method: "get", path: "/links/{linkId}", summary: "One tracked link", tag: "links", response: linkResponse },
  { method: "patch", path: "/links/{linkId}", summary: "Change a tracked link (archive with archived: true)", tag: "links", body: linkUpdateSchema, response: linkResponse },
  { method: "delete", path: "/links/{linkId}", summary: "Delete a tracked link (its clicks stay in reports)", tag: "links", successStatus: 204 },
];

export function shortUrl(baseUrl: string, slug: string): string {
  return `${baseUrl}/l/${encodeURIComponent(slug)}`;
}

export function publicLink(link: TrackedLink, baseUrl: string): z.infer<typeof linkResponse> {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    linkId: link.linkId,
    slug: link.slug,
    shortUrl: shortUrl(baseUrl, link.slug),
    destinationUrl: link.destinationUrl,
    campaignId: link.campaignId,
    source: link.source,
    medium: link.medium,
    content: link.content,
    leadId: link.leadId,
    title: link.title,
    archived: link.archived,
    clicks: link.clicks,
    lastClickedAt: link.lastClickedAt === null ? null : iso(link.lastClickedAt),
    createdAt: iso(link.createdAt),
    updatedAt: iso(link.updatedAt),
  };
}

export function linkApi(ctx: AppContext) {
  const base = (request: Request) => publicBaseUrl(ctx.config, request);
  return new Elysia({ prefix: "/api/v1" })
    .resolve(resolveApiProject(ctx))
    .post("/links", async ({ project, body, request, set }) => {
      const link = await createLink(ctx.storage, project.id, body as never, ctx.now());
      set.status = 201;
      return publicLink(link, base(request));
    })
    .get(
      "/links",
      async ({ project, query, request }) => {
        await ctx.writes.settle();
        const baseUrl = base(request);
        return {
          links: (
            await listLinks(ctx.storage, project.id, {
              includeArchived: query.includeArchived === "true",
              campaignId: query.campaignId,
              limit: query.limit,
              offset: query.offset,
            })
          ).map((link) => publicLink(link, baseUrl)),
        };
      },
      { query: listQuery },
    )
    .get("/links/:linkId", async ({ project, params, request }) => {
      await ctx.writes.settle();
      const link = await getLink(ctx.storage, project.id, params.linkId);
      if (!link) throw notFound("no such link");
      return publicLink(link, base(request));
    })
    .patch("/links/:linkId", async ({ project, params, body, request }) => {
      await ctx.writes.settle();
      return publicLink(await updateLink(ctx.storage, project.id, params.linkId, body as never, ctx.now()), base(request));
    })
    .delete("/links/:linkId", async ({ project, params, set }) => {
      await deleteLink(ctx.storage, project.id, params.linkId);
      set.status = 204;
      return null;
    });
}
