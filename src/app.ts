// The HTTP application: every capability's routes on one Elysia instance.
import { Elysia } from "elysia";
import type { AppContext } from "./context.ts";
import { errorHandling, errorResponse } from "./http/errors.ts";
import { isDatabaseUsable } from "./db/database.ts";
import { api } from "./api/index.ts";
import { trackingRoutes } from "./tracking/routes.ts";
import { paymentWebhooks } from "./payments/webhooks.ts";
import { dashboard } from "./dashboard/index.ts";

export function createApp(ctx: AppContext) {
  return new Elysia()
    .use(errorHandling)
    .get("/healthz", () =>
      isDatabaseUsable(ctx.db)
        ? Response.json({ status: "ok" }, { headers: { "cache-control": "no-store" } })
        : errorResponse(503, "database_unavailable", "the database does not answer"),
    )
    .use(trackingRoutes())
    .use(api(ctx))
    .use(paymentWebhooks(ctx))
    .use(dashboard(ctx));
}

export type App = ReturnType<typeof createApp>;
