// GET /api/v1/project: the project an API key belongs to (a cheap way to check a key), and
// PATCH /api/v1/project to change its settings with the dashboard's validation.
import { Elysia } from "elysia";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import { resolveApiProject } from "../api/auth.ts";
import type { ApiOperation } from "../api/openapi.ts";
import { badRequest } from "../http/errors.ts";
import { validateSettings } from "../dashboard/project-settings.ts";
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
  })
  .partial();

export const projectOperations: ApiOperation[] = [
  { method: "get", path: "/project", summary: "The project this API key belongs to", tag: "project", response: projectResponse },
  { method: "patch", path: "/project", summary: "Change the project's settings (answers at once; a currency change re-converts history in the background)", tag: "project", body: projectPatch, response: projectResponse },
];

export function publicProject(project: Project): z.infer<typeof projectResponse> {
  const { createdAt: _, ...rest } = project;
  return rest;
}

export function projectApi(ctx: AppContext) {
  return new Elysia({ prefix: "/api/v1" })
    .resolve(resolveApiProject(ctx))
    .get("/project", ({ project }) => publicProject(project))
    .patch(
      "/project",
      ({ project, body }) => {
        const next = { ...project, ...body };
        const { settings, errors } = validateSettings({
          name: next.name,
          currency: next.currency,
          timezone: next.timezone,
          allowedHostnames: next.allowedHostnames.join("\n"),
          lookbackDays: String(next.lookbackDays),
          pricingPathPattern: next.pricingPathPattern,
          countRenewals: next.countRenewals ? "on" : "",
        });
        const [field, message] = Object.entries(errors)[0] ?? [];
        if (field) throw badRequest(`${field}: ${message}`, field === "currency" ? "invalid_currency" : "invalid_request");
        return publicProject(changeProjectSettings(ctx, project, settings)!);
      },
      { body: projectPatch },
    );
}
