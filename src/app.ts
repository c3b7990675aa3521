// The HTTP application: every capability's routes on one Elysia instance.
import { Elysia } from "elysia";
import type { AppContext } from "./context.ts";
import { errorHandling, errorResponse } from "./http/errors.ts";
import { api } from "./api/index.ts";
import { trackingRoutes } from "./tracking/routes.ts";
import { paymentWebhooks } from "./payments/webhooks.ts";
import { dashboard } from "./dashboard/index.ts";

/** A probe that waits longer than this counts as no answer: a load balancer's check must not hang. */
const HEALTH_TIMEOUT_MS = 5_000;

/** A trivial query on either engine: false when the database does not answer in time (closed, unreachable, broken). */
async function databaseAnswers(ctx: AppContext): Promise<boolean> {
  let timer: Timer | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), HEALTH_TIMEOUT_MS)));
  try {
    const probe = ctx.storage.get<{ ok: number }>("SELECT 1 AS ok").then((row) => row?.ok === 1);
    return await Promise.race([probe, timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

export function createApp(ctx: AppContext) {
  return new Elysia()
    .use(errorHandling)
    .get("/healthz", async () =>
      (await databaseAnswers(ctx))
        ? Response.json({ status: "ok" }, { headers: { "cache-control": "no-store" } })
        : errorResponse(503, "database_unavailable", "the database does not answer"),
    )
    .use(trackingRoutes())
    .use(api(ctx))
    .use(paymentWebhooks(ctx))
    .use(dashboard(ctx));
}

export type App = ReturnType<typeof createApp>;
