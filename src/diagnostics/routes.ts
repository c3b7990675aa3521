// GET /api/v1/diagnostics: the attribution doctor's findings for the key's project.
import { Elysia } from "elysia";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import { resolveApiProject } from "../api/auth.ts";
import type { ApiOperation } from "../api/openapi.ts";
import { diagnose } from "./doctor.ts";
import { loadDoctorFacts } from "./facts.ts";

export const diagnosticsOperations: ApiOperation[] = [
  {
    method: "get",
    path: "/diagnostics",
    summary: "The attribution doctor: what to change so payments are attributed, with the payments that show it",
    tag: "diagnostics",
    response: z.object({
      findings: z.array(z.object({ code: z.string(), severity: z.enum(["error", "warning", "info"]), message: z.string(), paymentIds: z.array(z.string()) })),
    }),
  },
];

export function diagnosticsApi(ctx: AppContext) {
  return new Elysia({ prefix: "/api/v1" })
    .resolve(resolveApiProject(ctx))
    .get("/diagnostics", async ({ project }) => ({ findings: diagnose(await loadDoctorFacts(ctx.storage, project.id, ctx.now())) }));
}
