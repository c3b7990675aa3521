// /api/v1/events and /api/v1/identify: server-side events and identified profiles (SPEC §6).
import { Elysia } from "elysia";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import type { JobSteps, JobTx } from "../db/storage/jobs.ts";
import { resolveApiProject } from "../api/auth.ts";
import type { ApiOperation } from "../api/openapi.ts";
import { badRequest } from "../http/errors.ts";
import { describeIssue } from "../links/model.ts";
import type { Project } from "../projects/service.ts";
import { recordEvent } from "./events.ts";
import { eventNameSchema, identifySchema, propsSchema, timestampSchema } from "./model.ts";
import { findProfileIdByEmail, identifyProfile, latestVisitorOfProfile, normalizeEmail, visitorIdsOfProfile } from "./profiles.ts";
import { VISITOR_ID_PATTERN } from "./visitors.ts";

const visitorIdSchema = z.string().regex(VISITOR_ID_PATTERN, "is not a Bantico visitor id");

function eventSchema(now: () => number) {
  return z.object({
    name: eventNameSchema,
    visitorId: visitorIdSchema.nullish(),
    userId: z.union([z.string().trim().min(1).max(200), z.number().int().transform(String)]).nullish(),
    email: z.string().trim().max(320).nullish(),
    props: propsSchema.nullish(),
    timestamp: timestampSchema(now).optional(),
  });
}

const identifyBody = identifySchema.extend({ visitorId: visitorIdSchema.nullish() });

const eventResponse = z.object({
  eventId: z.number().int(),
  visitorId: z.string().nullable(),
  sessionId: z.string().nullable(),
  profileId: z.string().nullable(),
});

const profileResponse = z.object({
  id: z.string(),
  email: z.string().nullable(),
  name: z.string().nullable(),
  traits: z.record(z.string(), z.unknown()),
  visitorIds: z.array(z.string()),
});

export const trackingOperations: ApiOperation[] = [
  {
    method: "post",
    path: "/events",
    summary: "Record a server-side event (e.g. signup_completed) in a visitor's journey",
    tag: "events",
    body: eventSchema(Date.now),
    response: eventResponse,
    successStatus: 201,
  },
  { method: "post", path: "/identify", summary: "Create or update a profile and link a visitor to it", tag: "profiles", body: identifyBody, response: profileResponse },
];

function parse<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw badRequest(describeIssue(parsed.error));
  return parsed.data;
}

/** A server-side event joins the visitor's latest session within the lookback window, and takes its context. */
function* latestSessionId(tx: JobTx, project: Project, visitorId: string, now: number): JobSteps<string | null> {
  const row = yield* tx.get<{ id: string }>("SELECT id FROM sessions WHERE project_id = ? AND visitor_id = ? AND started_at >= ? ORDER BY started_at DESC LIMIT 1", [
    project.id,
    visitorId,
    now - project.lookbackDays * 86_400_000,
  ]);
  return row?.id ?? null;
}

export function trackingApi(ctx: AppContext) {
  const events = eventSchema(ctx.now);
  return new Elysia({ prefix: "/api/v1" })
    .resolve(resolveApiProject(ctx))
    .post("/events", async ({ project, body, set }) => {
      const input = parse(events, body);
      const ts = input.timestamp ?? ctx.now();
      const stored = await ctx.writes.job(function* (tx) {
        // userId names the profile; an email alone finds it, or becomes its id, so payments can match it later.
        const knownByEmail = !input.userId && input.email ? yield* findProfileIdByEmail(tx, project.id, input.email) : null;
        const profileKey = input.userId ?? knownByEmail ?? normalizeEmail(input.email);
        const profileId = profileKey
          ? (yield* identifyProfile(tx, project.id, { id: profileKey, email: input.email }, input.visitorId ?? null, ts, "trusted")).id
          : null;
        const visitorId = input.visitorId ?? (profileId ? yield* latestVisitorOfProfile(tx, project.id, profileId) : null);
        const sessionId = visitorId ? yield* latestSessionId(tx, project, visitorId, ts) : null;
        const eventId = yield* recordEvent(tx, { projectId: project.id, name: input.name, ts, visitorId, sessionId, profileId, props: input.props ?? null });
        return { eventId, visitorId, sessionId, profileId };
      });
      set.status = 201;
      return stored;
    })
    .post("/identify", async ({ project, body }) => {
      const input = parse(identifyBody, body);
      const now = ctx.now();
      return ctx.writes.job(function* (tx) {
        const visitorId = input.visitorId ?? null;
        const profile = yield* identifyProfile(tx, project.id, input, visitorId, now, "trusted");
        if (visitorId) {
          const sessionId = yield* latestSessionId(tx, project, visitorId, now);
          yield* recordEvent(tx, { projectId: project.id, name: "identify", ts: now, visitorId, profileId: profile.id, sessionId });
        }
        const visitorIds = yield* visitorIdsOfProfile(tx, project.id, profile.id);
        return { id: profile.id, email: profile.email, name: profile.name, traits: profile.traits, visitorIds };
      });
    });
}
