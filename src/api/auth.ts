// Bearer authentication for /api/v1: the key names exactly one project.
import type { AppContext } from "../context.ts";
import { projectIdForApiKey } from "../auth/api-keys.ts";
import { unauthorized } from "../http/errors.ts";
import { getProject, type Project } from "../projects/service.ts";

export function requireApiProject(ctx: AppContext, authorization: string | undefined): Project {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  if (!match) throw unauthorized("send the API key as 'Authorization: Bearer <key>'");
  const projectId = projectIdForApiKey(ctx.db, match[1]!, ctx.now());
  const project = projectId ? getProject(ctx.db, projectId) : null;
  if (!project) throw unauthorized("the API key is unknown or revoked");
  return project;
}

/** For `.resolve(...)` in each /api/v1 router: adds `project` to the handler context. */
export const resolveApiProject =
  (ctx: AppContext) =>
  ({ headers }: { headers: Record<string, string | undefined> }) => ({
    project: requireApiProject(ctx, headers.authorization),
  });
