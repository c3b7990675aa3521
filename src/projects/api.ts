// GET /api/v1/project: the project an API key belongs to (a cheap way to check a key), and
// PATCH /api/v1/project to change its settings with the dashboard's validation.
import { Elysia } from "elysia";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import { resolveApiProject } from "../api/auth.ts";
import type { ApiOperation } from "../api/openapi.ts";
import { validateSettings, type SettingsForm } from "../dashboard/project-settings.ts";
import { badRequest } from "../http/errors.ts";
import { describeIssue } from "../links/model.ts";
import { changeProjectSettings } from "../payments/fx/stored.ts";
import type { Project } from "./service.ts";

export const projectResponse = z.object({
  id: z.string(),
  name: z.string(),
  token: z.string(),
  currency: z.string().describe("The reporting currency (SPEC §5)"),
  timezone: z.string(),
  allowedHostnames: z.array(z.string()),
  lookbackDays: z.number().int(),
  pricingPathPattern: z.string(),
  identifySecret: z.string(),
  verifiedEmailAttributionOnly: z.boolean(),
  countRenewals: z.boolean().describe("Renewals count in revenue totals"),
});

const projectPatch = z
  .object({
    name: z.string().max(200),
    currency: z.string().max(40).describe("A new reporting currency: history is converted again in the background"),
    timezone: z.string().max(100),
    allowedHostnames: z.array(z.string().max(300)).max(200),
    lookbackDays: z.number().int(),
    pricingPathPattern: z.string().max(300),
    countRenewals: z.boolean(),
    verifiedEmailAttributionOnly: z.boolean(),
  })
  .partial()
  .strict();

export const projectOperations: ApiOperation[] = [
  { method: "get", path: "/project", summary: "The project this API key belongs to", tag: "project", response: projectResponse },
  { method: "patch", path: "/project", summary: "Change the project's settings (answers at once; a currency change re-converts history in the background)", tag: "project", body: projectPatch, response: projectResponse },
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
    countRenewals: (patch.countRenewals ?? project.countRenewals) ? "on" : "",
  };
  const { settings, errors } = validateSettings(form);
  const problem = Object.entries(errors)[0];
  if (problem) throw badRequest(`${problem[0]}: ${problem[1]}`, problem[0] === "currency" ? "invalid_currency" : "invalid_request");
  return { ...settings, verifiedEmailAttributionOnly: patch.verifiedEmailAttributionOnly ?? project.verifiedEmailAttributionOnly };
}

export function projectApi(ctx: AppContext) {
  return new Elysia({ prefix: "/api/v1" })
    .resolve(resolveApiProject(ctx))
    .get("/project", ({ project }) => publicProject(project))
    .patch("/project", async ({ project, body }) => publicProject((await changeProjectSettings(ctx, project, patchedSettings(project, body)))!));
}
