// POST /api/v1/subscriptions/{id}/cancel (an API-fed subscription's end) and GET /api/v1/reports/mrr.
import { Elysia } from "elysia";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import { resolveApiProject } from "../api/auth.ts";
import type { ApiOperation } from "../api/openapi.ts";
import { badRequest, notFound } from "../http/errors.ts";
import { parseTimeBound } from "../reports/range.ts";
import { GROUP_BY } from "../reports/attribution.ts";
import { cancelSubscription } from "./store.ts";
import { monthSpans, mrrMovements, subscriptionsOn } from "./mrr.ts";
import { reportDb } from "../reports/source.ts";

const cancelBody = z.object({ at: z.union([z.string(), z.number()]).optional().describe("When its MRR ends: ISO 8601 or unix ms; default now") }).optional();

const mrrQuery = z.object({
  groupBy: z.enum(GROUP_BY).optional().describe("link, campaign, source, medium, content or lead of the subscription's first sale; omitted: one row per month"),
  from: z.string().optional().describe("ISO date, date-time or unix ms; default 12 months ago"),
  to: z.string().optional().describe("ISO date, date-time or unix ms (exclusive), may lie in the future; default now"),
});

const mrrRow = z.object({
  month: z.string().describe("YYYY-MM in the project's timezone"),
  key: z.string().nullable(),
  mrr: z.number().int().describe("As of the month's end (now for the current month), minor units of currency"),
  new: z.number().int(),
  expansion: z.number().int(),
  contraction: z.number().int(),
  churned: z.number().int(),
  activeSubscriptions: z.number().int(),
  currency: z.string(),
});

export const subscriptionOperations: ApiOperation[] = [
  { method: "post", path: "/subscriptions/{subscriptionId}/cancel", summary: "End an API-fed subscription's MRR", tag: "subscriptions", body: cancelBody, response: z.object({ id: z.string(), cancelledAt: z.string() }) },
  { method: "get", path: "/reports/mrr", summary: "MRR and its movements per month (and attribution key)", tag: "reports", query: mrrQuery, response: z.object({ rows: z.array(mrrRow) }) },
];

export function subscriptionApi(ctx: AppContext) {
  return new Elysia({ prefix: "/api/v1" })
    .resolve(resolveApiProject(ctx))
    .post(
      "/subscriptions/:subscriptionId/cancel",
      async ({ project, params, body }) => {
        const at = body?.at === undefined ? ctx.now() : parseTimeBound(String(body.at), "at")!;
        const known = await ctx.writes.job((tx) => cancelSubscription(tx, project.id, "api", params.subscriptionId, at, ctx.now()));
        if (!known) throw notFound(`there is no subscription ${params.subscriptionId} sent through the API`);
        return { id: params.subscriptionId, cancelledAt: new Date(at).toISOString() };
      },
      { body: cancelBody },
    )
    .get(
      "/reports/mrr",
      async ({ project, query }) => {
        await ctx.writes.settle();
        const now = ctx.now();
        const to = parseTimeBound(query.to, "to") ?? now;
        const from = parseTimeBound(query.from, "from") ?? to - 365 * 86_400_000;
        if (from >= to) throw badRequest("from must be before to");
        const subs = await subscriptionsOn(reportDb(ctx), project.id, query.groupBy ?? null, now);
        return { rows: mrrMovements(subs, monthSpans(from, to, project.timezone), now, project.currency) };
      },
      { query: mrrQuery },
    );
}
