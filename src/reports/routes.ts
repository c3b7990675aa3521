// GET /api/v1/reports/attribution: the report of SPEC §6, for every groupBy and both models.
import { Elysia } from "elysia";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import { resolveApiProject } from "../api/auth.ts";
import type { ApiOperation } from "../api/openapi.ts";
import { badRequest } from "../http/errors.ts";
import { attributionReport, GROUP_BY, MODELS } from "./attribution.ts";
import { DAY_MS, parseTimeBound } from "./range.ts";

const reportQuery = z.object({
  groupBy: z.enum(GROUP_BY).describe("link, campaign, source, medium, content or lead"),
  from: z.string().optional().describe("ISO date, date-time or unix ms (inclusive); default 30 days ago"),
  to: z.string().optional().describe("ISO date, date-time or unix ms (exclusive); default now"),
  model: z.enum(MODELS).optional().describe("last (default) or first touch"),
});

const reportRow = z.object({
  key: z.string().nullable(),
  clicks: z.number().int(),
  visitors: z.number().int(),
  signups: z.number().int(),
  payments: z.number().int(),
  revenue: z.number().int().describe("Net of tax, minor units"),
  refunds: z.number().int().describe("Refunds and disputes net of tax, minor units, positive"),
  net: z.number().int(),
  currency: z.string(),
});

export const reportOperations: ApiOperation[] = [
  {
    method: "get",
    path: "/reports/attribution",
    summary: "Traffic and revenue per link, campaign, source, medium, content or lead (one row per currency)",
    tag: "reports",
    query: reportQuery,
    response: z.object({ groupBy: z.enum(GROUP_BY), model: z.enum(MODELS), from: z.string(), to: z.string(), rows: z.array(reportRow) }),
  },
];

export function reportApi(ctx: AppContext) {
  return new Elysia({ prefix: "/api/v1" }).resolve(resolveApiProject(ctx)).get(
    "/reports/attribution",
    async ({ project, query }) => {
      await ctx.writes.settle();
      const to = parseTimeBound(query.to, "to") ?? ctx.now();
      const from = parseTimeBound(query.from, "from") ?? to - 30 * DAY_MS;
      if (from >= to) throw badRequest("from must be before to");
      const model = query.model ?? "last";
      const rows = attributionReport(ctx.db, project.id, { groupBy: query.groupBy, from, to, model, reportingCurrency: project.currency });
      return { groupBy: query.groupBy, model, from: new Date(from).toISOString(), to: new Date(to).toISOString(), rows };
    },
    { query: reportQuery },
  );
}
