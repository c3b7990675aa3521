// The two endpoints every visitor hits, served by Bun's router before Elysia sees the request:
// Elysia's context and lifecycle cost more per request than the rest of a redirect outside SQLite.
import type { AppContext } from "../context.ts";
import { followLink } from "../links/redirect.ts";
import { collect } from "../tracking/collect.ts";
import { internalError } from "./errors.ts";

type SlugRequest = Request & { params: { slug: string } };

/** What Elysia's error handler answers for an unexpected error, for handlers that run without it. */
function answered(handle: () => Promise<Response>): Promise<Response> {
  // A catch on the handler's promise rather than an async wrapper: one promise less per request.
  try {
    return handle().catch(internalError);
  } catch (error) {
    return Promise.resolve(internalError(error));
  }
}

export function hotRoutes(ctx: AppContext) {
  const follow = (request: SlugRequest) => answered(() => followLink(ctx, request, request.params.slug));
  return {
    "/l/:slug": { GET: follow, HEAD: follow },
    "/api/collect": { POST: (request: Request) => answered(() => collect(ctx, request)) },
  };
}
