// Bearer authentication for /api/v1: the key names exactly one project.
import type { AppContext } from "../context.ts";
import { projectIdForApiKey } from "../auth/api-keys.ts";
import { unauthorized } from "../http/errors.ts";
import { getProject, type Project } from "../projects/service.ts";

export async function requireApiProject(ctx: AppContext, authorization: string | undefined): Promise<Project> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  if (!match) throw unauthorized("send the API key as 'Authorization: Bearer <key>'");
  const projectId = await projectIdForApiKey(ctx.storage, match[1]!, ctx.now());
  const project = projectId ? await getProject(ctx.storage, projectId) : null;
  if (!project) throw unauthorized("the API key is unknown or revoked");
  return project;
}

/** For `.resolve(...)` in each /api/v1 router: adds `project` to the handler context. */
export const resolveApiProject =
  (ctx: AppContext) =>
  async ({ headers }: { headers: Record<string, string | undefined> }) => ({
    project: await requireApiProject(ctx, headers.authorization),
  });
