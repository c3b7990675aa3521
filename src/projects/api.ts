// GET /api/v1/project: the project an API key belongs to (a cheap way to check a key); PATCH changes its settings.
import { Elysia } from "elysia";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import { resolveApiProject } from "../api/auth.ts";
import type { ApiOperation } from "../api/openapi.ts";
import { validateSettings, type SettingsForm } from "../dashboard/project-settings.ts";
import { badRequest } from "../http/errors.ts";
import { describeIssue } from "../links/model.ts";
import { updateProjectSettings, type Project } from "./service.ts";

export const projectResponse = z.object({
  id: z.string(),
  name: z.string(),
  token: z.string(),
  currency: z.string(),
  timezone: z.string(),
  allowedHostnames: z.array(z.string()),
  lookbackDays: z.number().int(),
  pricingPathPattern: z.string(),
  identifySecret: z.string(),
  verifiedEmailAttributionOnly: z.boolean(),
});

const projectPatch = z
  .object({
    name: z.string(),
    currency: z.string(),
    timezone: z.string(),
    allowedHostnames: z.array(z.string()),
    lookbackDays: z.number().int(),
    pricingPathPattern: z.string(),
    verifiedEmailAttributionOnly: z.boolean(),
  })
  .partial()
  .strict();

export const projectOperations: ApiOperation[] = [
  { method: "get", path: "/project", summary: "The project this API key belongs to", tag: "project", response: projectResponse },
  { method: "patch", path: "/project", summary: "Change the project's settings; answers the changed project", tag: "project", body: projectPatch, response: projectResponse },
];

export function publicProject(project: Project): z.infer<typeof projectResponse> {
  const { createdAt: _, previousIdentifySecret: __, ...rest } = project;
  return rest;
}

/** The patch checked by the same rules as the settings page; refused whole at the first problem. */
function patchedSettings(project: Project, body: unknown) {
  const parsed = projectPatch.safeParse(body);
  if (!parsed.success) throw badRequest(describeIssue(parsed.error));
  const patch = parsed.data;
  const form: SettingsForm = {
    name: patch.name ?? project.name,
    allowedHostnames: (patch.allowedHostnames ?? project.allowedHostnames).join("\n"),
    currency: patch.currency ?? project.currency,
    timezone: patch.timezone ?? project.timezone,
    lookbackDays: String(patch.lookbackDays ?? project.lookbackDays),
    pricingPathPattern: patch.pricingPathPattern ?? project.pricingPathPattern,
  };
  const { settings, errors } = validateSettings(form);
  const problem = Object.entries(errors)[0];
  if (problem) throw badRequest(`${problem[0]}: ${problem[1]}`);
  return { ...settings, verifiedEmailAttributionOnly: patch.verifiedEmailAttributionOnly ?? project.verifiedEmailAttributionOnly };
}

export function projectApi(ctx: AppContext) {
  return new Elysia({ prefix: "/api/v1" })
    .resolve(resolveApiProject(ctx))
    .get("/project", ({ project }) => publicProject(project))
    .patch("/project", ({ project, body }) => publicProject(updateProjectSettings(ctx.db, project.id, patchedSettings(project, body))!));
}
