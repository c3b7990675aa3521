// The REST API: every capability's /api/v1 router, and the OpenAPI document describing them.
import { Elysia } from "elysia";
import type { AppContext } from "../context.ts";
import { publicBaseUrl } from "../config.ts";
import { openApiDocument, type ApiOperation } from "./openapi.ts";
import { projectApi, projectOperations } from "../projects/api.ts";
import { linkApi, linkOperations } from "../links/api.ts";
import { trackingApi, trackingOperations } from "../tracking/api.ts";
import { paymentApi, paymentOperations } from "../payments/routes.ts";
import { reportApi, reportOperations } from "../reports/routes.ts";
import { privacyApi, privacyOperations } from "../privacy/api.ts";
import { diagnosticsApi, diagnosticsOperations } from "../diagnostics/routes.ts";
import { fxApi, fxOperations } from "../payments/fx/routes.ts";
import { subscriptionApi, subscriptionOperations } from "../subscriptions/routes.ts";

const operations: ApiOperation[] = [
  ...projectOperations,
  ...linkOperations,
  ...trackingOperations,
  ...paymentOperations,
  ...reportOperations,
  ...privacyOperations,
  ...diagnosticsOperations,
  ...fxOperations,
  ...subscriptionOperations,
];

export function api(ctx: AppContext) {
  return new Elysia()
    .get("/api/v1/openapi.json", ({ request }) => openApiDocument(operations, publicBaseUrl(ctx.config, request)))
    .use(projectApi(ctx))
    .use(linkApi(ctx))
    .use(trackingApi(ctx))
    .use(paymentApi(ctx))
    .use(reportApi(ctx))
    .use(privacyApi(ctx))
    .use(diagnosticsApi(ctx))
    .use(fxApi(ctx))
    .use(subscriptionApi(ctx));
}
