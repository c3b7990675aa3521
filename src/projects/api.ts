// GET /api/v1/project: the project an API key belongs to (a cheap way to check a key).
import { Elysia } from "elysia";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import { resolveApiProject } from "../api/auth.ts";
import type { ApiOperation } from "../api/openapi.ts";
import type { Project } from "./service.ts";

export const projectResponse = z.object({
  id: z.string(),
  name: z.string(),
  token: z.string(),
  currency: z.string(),
  timezone: z.string(),
  allowedHostnames: z.array(z.string()),
  lookbackDays: z.number().int(),
  pricingPathPattern: z.string(),
});

export const projectOperations: ApiOperation[] = [
  { method: "get", path: "/project", summary: "The project this API key belongs to", tag: "project", response: projectResponse },
];

export function publicProject(project: Project): z.infer<typeof projectResponse> {
  const { createdAt: _, ...rest } = project;
  return rest;
}

export function projectApi(ctx: AppContext) {
  return new Elysia({ prefix: "/api/v1" }).resolve(resolveApiProject(ctx)).get("/project", ({ project }) => publicProject(project));
}
