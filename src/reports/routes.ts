// GET /api/v1/reports/{attribution,traffic,summary,funnel}: the reports of SPEC §6.
import { Elysia } from "elysia";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import { resolveApiProject } from "../api/auth.ts";
import type { ApiOperation } from "../api/openapi.ts";
import { badRequest } from "../http/errors.ts";
import { attributionOn, GROUP_BY, MODELS } from "./attribution.ts";
import { FUNNEL_STEPS } from "./people/index.ts";
import { DAY_MS, parseTimeBound } from "./range.ts";
import { addDays, localDate, startOfLocalDay } from "../dashboard/range.ts";
import { funnelOn, summaryOn } from "./summary.ts";
import { reportDb } from "./source.ts";
import { TRAFFIC_GROUP_BY, trafficOn } from "./traffic.ts";

const rangeQuery = z.object({
  from: z.string().optional().describe("ISO date, date-time or unix ms (inclusive); default the start of the day 29 days ago in the project's time zone (30 days before `to` when only `to` is given)"),
  to: z.string().optional().describe("ISO date, date-time or unix ms (exclusive); default the end of today in the project's time zone"),
});

const attributionQuery = rangeQuery.extend({
  groupBy: z.enum(GROUP_BY).describe("link, campaign, source, medium, content or lead"),
  model: z.enum(MODELS).optional().describe("last (default) or first touch"),
});
const trafficQuery = rangeQuery.extend({ groupBy: z.enum(TRAFFIC_GROUP_BY).describe("page, entryPage, referrer, country, device, browser or os") });
const funnelQuery = rangeQuery.extend({
  linkId: z.string().max(200).optional(),
  campaignId: z.string().max(200).optional(),
  source: z.string().max(200).optional(),
});

const count = z.number().int();
const rate = z.number().min(0).max(1);
const minor = z.number().int();
const currencySums = z.object({ currency: z.string(), payments: count, revenue: minor, refunds: minor, net: minor });
const money = {
  payments: count.describe("Sales and renewals"),
  revenue: minor.describe("Net of tax, minor units of `currency`"),
  refunds: minor.describe("Refunds and disputes net of tax, minor units, positive"),
  net: minor,
  revenuePerVisitor: minor.describe("net ÷ visitors, minor units"),
  currency: z.string().describe("The reporting currency"),
  byCurrency: z.array(currencySums).describe("The original amounts, per currency"),
  unconverted: count.describe("Payments left out of the converted sums for want of a rate"),
};
const people = {
  visitors: count.describe("Distinct visitors over the whole range"),
  signups: count.describe("People who completed a signup"),
  customers: count.describe("People with a sale credited in the range"),
  conversionRate: rate.describe("People who visited and bought ÷ people who visited, 0 to 1"),
};

const attributionRow = z.object({ key: z.string().nullable(), label: z.string(), clicks: count, ...people, ...money });
const trafficRow = z.object({ key: z.string().nullable(), ...people, pageviews: count, net: minor, unconverted: count, currency: z.string() });
const summary = z.object({ clicks: count, ...people, ...money });
const funnelStep = z.object({
  name: z.enum(FUNNEL_STEPS),
  people: count.nullable().describe("null when the project never recorded this step"),
  conversionFromPrevious: rate.nullable(),
  conversionFromFirst: rate.nullable(),
  tracked: z.boolean(),
});

export const reportOperations: ApiOperation[] = [
  {
    method: "get",
    path: "/reports/attribution",
    summary: "People, clicks and revenue per link, campaign, source, medium, content or lead (one row per key)",
    tag: "reports",
    query: attributionQuery,
    response: z.object({ groupBy: z.enum(GROUP_BY), model: z.enum(MODELS), from: z.string(), to: z.string(), rows: z.array(attributionRow) }),
  },
  {
    method: "get",
    path: "/reports/traffic",
    summary: "People and revenue per page, entry page, referrer, country, device, browser or OS",
    tag: "reports",
    query: trafficQuery,
    response: z.object({ groupBy: z.enum(TRAFFIC_GROUP_BY), from: z.string(), to: z.string(), rows: z.array(trafficRow) }),
  },
  { method: "get", path: "/reports/summary", summary: "The range's totals, people counted distinct over the range", tag: "reports", query: rangeQuery, response: summary },
  {
    method: "get",
    path: "/reports/funnel",
    summary: "People who reached each journey step after the previous tracked one",
    tag: "reports",
    query: funnelQuery,
    response: z.object({ steps: z.array(funnelStep) }),
  },
];

/**
 * Without bounds, the dashboard's 30 days: the local day 29 days ago through today, in the project's
 * time zone. Counts over those whole days are kept from one call to the next (and counted ahead at
 * start); a range ending at this very millisecond started at a new instant on each call and was
 * counted from scratch every time (~1 s over 30 days at 10M events).
 */
function readRange(query: { from?: string; to?: string }, now: number, timeZone: string): { from: number; to: number } {
  const today = localDate(now, timeZone);
  const to = parseTimeBound(query.to, "to") ?? startOfLocalDay(addDays(today, 1), timeZone);
  const from = parseTimeBound(query.from, "from") ?? (query.to === undefined ? startOfLocalDay(addDays(today, -29), timeZone) : to - 30 * DAY_MS);
  if (from >= to) throw badRequest("from must be before to");
  return { from, to };
}

const iso = (range: { from: number; to: number }) => ({ from: new Date(range.from).toISOString(), to: new Date(range.to).toISOString() });

export function reportApi(ctx: AppContext) {
  return new Elysia({ prefix: "/api/v1" })
    .resolve(resolveApiProject(ctx))
    .get(
      "/reports/attribution",
      async ({ project, query }) => {
        await ctx.writes.settle();
        const range = readRange(query, ctx.now(), project.timezone);
        const model = query.model ?? "last";
        const rows = await attributionOn(reportDb(ctx), project, { groupBy: query.groupBy, ...range, model }, ctx.now());
        return { groupBy: query.groupBy, model, ...iso(range), rows };
      },
      { query: attributionQuery },
    )
    .get(
      "/reports/traffic",
      async ({ project, query }) => {
        await ctx.writes.settle();
        const range = readRange(query, ctx.now(), project.timezone);
        return { groupBy: query.groupBy, ...iso(range), rows: await trafficOn(reportDb(ctx), project, { groupBy: query.groupBy, ...range }, ctx.now()) };
      },
      { query: trafficQuery },
    )
    .get(
      "/reports/summary",
      async ({ project, query }) => {
        await ctx.writes.settle();
        return summaryOn(reportDb(ctx), project, readRange(query, ctx.now(), project.timezone), ctx.now());
      },
      { query: rangeQuery },
    )
    .get(
      "/reports/funnel",
      async ({ project, query }) => {
        await ctx.writes.settle();
        const filter = {
          ...(query.linkId ? { link: query.linkId } : {}),
          ...(query.campaignId ? { campaign: query.campaignId } : {}),
          ...(query.source ? { source: query.source } : {}),
        };
        return { steps: await funnelOn(reportDb(ctx), project, { ...readRange(query, ctx.now(), project.timezone), filter }, ctx.now()) };
      },
      { query: funnelQuery },
    );
}
