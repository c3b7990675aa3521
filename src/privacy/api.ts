// DELETE /api/v1/profiles/{id} and DELETE /api/v1/profiles?email=: erasing a person (SPEC §6, §10).
import { Elysia } from "elysia";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import { resolveApiProject } from "../api/auth.ts";
import type { ApiOperation } from "../api/openapi.ts";
import { badRequest, notFound } from "../http/errors.ts";
import { erasePerson, type Erasure } from "./erasure.ts";

const erasureResponse = z.object({
  profileIds: z.array(z.string()),
  visitorsUnlinked: z.number().int(),
  eventsUnlinked: z.number().int(),
  paymentsErased: z.number().int(),
  leadsErased: z.number().int(),
  providerEventsErased: z.number().int(),
  /** SQLite: its WAL was truncated. */
  walTruncated: z.boolean().optional(),
  /** PostgreSQL: the touched tables were vacuumed. */
  vacuumed: z.boolean().optional(),
});

const byEmail = z.object({ email: z.string().trim().min(3).max(320) });

export const privacyOperations: ApiOperation[] = [
  {
    method: "delete",
    path: "/profiles/{profileId}",
    summary: "Erase a person by profile id: their email, name and traits everywhere; counts and amounts stay",
    tag: "profiles",
    response: erasureResponse,
  },
  {
    method: "delete",
    path: "/profiles",
    summary: "Erase a person by email (profiles, payments, leads); 404 when no such person",
    tag: "profiles",
    query: byEmail,
    response: erasureResponse,
  },
];

function found(erased: Erasure | null, what: string): Erasure {
  if (!erased) throw notFound(`this project has no ${what}`);
  return erased;
}

export function privacyApi(ctx: AppContext) {
  return new Elysia({ prefix: "/api/v1" })
    .resolve(resolveApiProject(ctx))
    .delete("/profiles/:profileId", async ({ project, params }) =>
      found(await erasePerson(ctx, project.id, { profileId: params.profileId }), "profile with this id"),
    )
    .delete("/profiles", async ({ project, query }) => {
      const parsed = byEmail.safeParse(query);
      if (!parsed.success) throw badRequest("email: give the person's email, as ?email=…");
      return found(await erasePerson(ctx, project.id, { email: parsed.data.email }), "profile, payment or lead with this email");
    });
}
