// /api/v1 routes for payments and integrations, declared for the OpenAPI document beside them.
import { Elysia } from "elysia";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import { resolveApiProject } from "../api/auth.ts";
import type { ApiOperation } from "../api/openapi.ts";
import { conflict, notFound } from "../http/errors.ts";
import { parseTimeBound } from "../reports/range.ts";
import { ATTRIBUTION_METHODS } from "../attribution/engine.ts";
import { recordPayment, type PaymentRow } from "./ledger.ts";
import { apiPaymentBody, apiPaymentToIncoming } from "./api.ts";
import { loadPayment, loadPayments } from "./service.ts";
import { connectIntegration, disconnectIntegration, INTEGRATION_PROVIDERS, integrationStatus, listIntegrations, type IntegrationProvider } from "./integrations.ts";
import { NATIVE_PROVIDER_IDS } from "./native.ts";
import { PROVIDER_GUIDES } from "./guides.ts";
import { paymentScheduler } from "./pull.ts";
import { PAYMENT_KINDS, PROVIDERS } from "./types.ts";
import { RATE_SOURCES } from "./fx/convert.ts";

const listQuery = z.object({
  from: z.string().optional().describe("ISO date, date-time or unix ms (inclusive)"),
  to: z.string().optional().describe("ISO date, date-time or unix ms (exclusive)"),
  method: z.enum(ATTRIBUTION_METHODS).optional(),
  provider: z.enum(PROVIDERS).optional(),
  kind: z.enum(PAYMENT_KINDS).optional(),
  linkId: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  cursor: z.string().optional(),
});

const contextSchema = {
  linkId: z.string().nullable(),
  campaignId: z.string().nullable(),
  source: z.string().nullable(),
  medium: z.string().nullable(),
  content: z.string().nullable(),
  leadId: z.string().nullable(),
};

export const paymentEntrySchema = z.object({
  id: z.string(),
  provider: z.enum(PROVIDERS),
  kind: z.enum(PAYMENT_KINDS),
  amount: z.number().int(),
  tax: z.number().int(),
  net: z.number().int(),
  currency: z.string(),
  email: z.string().nullable(),
  description: z.string(),
  occurredAt: z.string(),
  receivedAt: z.string(),
  providerIds: z.record(z.string(), z.string().nullable()),
  parentPaymentId: z.string().nullable(),
  metadata: z.record(z.string(), z.string()),
  attribution: z.object({
    method: z.enum(ATTRIBUTION_METHODS),
    ...contextSchema,
    explanation: z.string(),
    mismatches: z.array(z.object({ field: z.string(), link: z.string(), metadata: z.string() })),
    firstTouch: z.object(contextSchema),
    visitorId: z.string().nullable(),
    sessionId: z.string().nullable(),
    profileId: z.string().nullable(),
  }),
  reporting: z
    .object({
      currency: z.string(),
      amount: z.number().int().nullable().describe("Minor units of the reporting currency, tax included; null without a rate"),
      net: z.number().int().nullable().describe("Net of tax, what revenue counts; null without a rate"),
      rate: z.number().nullable().describe("Units of the reporting currency per whole unit of the payment's"),
      rateSource: z.enum(RATE_SOURCES),
      rateDate: z.string().nullable(),
    })
    .nullable(),
  settlement: z.object({ currency: z.string(), amount: z.number().int() }).nullable(),
});

const stripeBody = z.object({
  apiKey: z.string().max(300).optional().describe("A restricted key with read access (rk_live_…); needs Events: Read"),
  webhookSecret: z.string().max(300).optional().describe("The signing secret (whsec_…) of an endpoint at /webhooks/stripe/{projectId}"),
});
const polarBody = z.object({
  accessToken: z.string().max(500).optional().describe("An organization access token with orders:read"),
  webhookSecret: z.string().max(300).optional().describe("The secret of a Polar webhook endpoint at /webhooks/polar/{projectId}"),
});

const nativeBody = (provider: (typeof NATIVE_PROVIDER_IDS)[number]) =>
  z.object({
    apiKey: z.string().max(500).optional().describe(PROVIDER_GUIDES[provider].credentialHint),
    webhookSecret: z.string().max(300).optional().describe(`${PROVIDER_GUIDES[provider].webhookSecretHint} Events: ${PROVIDER_GUIDES[provider].events.join(", ")}`),
  });
const nativeBodies = Object.fromEntries(NATIVE_PROVIDER_IDS.map((provider) => [provider, nativeBody(provider)])) as Record<(typeof NATIVE_PROVIDER_IDS)[number], ReturnType<typeof nativeBody>>;

export const integrationStatusSchema = z.object({
  provider: z.enum(INTEGRATION_PROVIDERS),
  connected: z.boolean(),
  status: z.enum(["connected", "webhook_only", "error", "not_connected"]),
  message: z.string(),
  credentialHint: z.string().nullable(),
  hasCredential: z.boolean(),
  hasWebhookSecret: z.boolean(),
  webhookPath: z.string(),
  connectedAt: z.number().nullable(),
  lastEventAt: z.number().nullable(),
  lastPullAt: z.number().nullable(),
  lastError: z.string().nullable(),
  lastErrorAt: z.number().nullable(),
  backfill: z.object({ state: z.enum(["none", "running", "done"]), from: z.number().nullable(), processed: z.number(), progress: z.number(), doneAt: z.number().nullable() }),
});

export const paymentOperations: ApiOperation[] = [
  {
    method: "get",
    path: "/payments",
    summary: "Ledger entries (newest first) with their attribution",
    tag: "payments",
    query: listQuery,
    response: z.object({ payments: z.array(paymentEntrySchema), nextCursor: z.string().nullable() }),
  },
  { method: "get", path: "/payments/{paymentId}", summary: "One ledger entry", tag: "payments", response: paymentEntrySchema },
  {
    method: "post",
    path: "/payments",
    summary: "Record a payment from another provider (idempotent on transactionId)",
    tag: "payments",
    body: apiPaymentBody,
    response: paymentEntrySchema,
    successStatus: 201,
  },
  { method: "get", path: "/integrations", summary: "Every payment provider's connection status", tag: "integrations", response: z.array(integrationStatusSchema) },
  { method: "put", path: "/integrations/stripe", summary: "Connect Stripe (key is verified; backfills 30 days)", tag: "integrations", body: stripeBody, response: integrationStatusSchema },
  { method: "delete", path: "/integrations/stripe", summary: "Disconnect Stripe", tag: "integrations", response: integrationStatusSchema },
  { method: "put", path: "/integrations/polar", summary: "Connect Polar (token is verified; backfills 30 days)", tag: "integrations", body: polarBody, response: integrationStatusSchema },
  { method: "delete", path: "/integrations/polar", summary: "Disconnect Polar", tag: "integrations", response: integrationStatusSchema },
  ...NATIVE_PROVIDER_IDS.flatMap((provider): ApiOperation[] => [
    {
      method: "put",
      path: `/integrations/${provider}`,
      summary: `Connect ${PROVIDER_GUIDES[provider].name} (key is verified; backfills 30 days where the API allows)`,
      tag: "integrations",
      body: nativeBodies[provider],
      response: integrationStatusSchema,
    },
    { method: "delete", path: `/integrations/${provider}`, summary: `Disconnect ${PROVIDER_GUIDES[provider].name}`, tag: "integrations", response: integrationStatusSchema },
  ]),
];

function sameTransaction(row: PaymentRow | null, amount: number, currency: string, kind: string): boolean {
  return row === null || (row.amount === amount && row.currency === currency && row.kind === kind);
}

export function paymentApi(ctx: AppContext) {
  const connect = async (projectId: string, provider: IntegrationProvider, credential: string | undefined, webhookSecret: string | undefined) => {
    const status = await connectIntegration(ctx, projectId, provider, { credential, webhookSecret });
    // Start the backfill now rather than at the next tick; its progress shows in the status.
    if (credential) void paymentScheduler(ctx)?.runNow(projectId, provider);
    return status;
  };
  // The status says what became of the webhook endpoint connect had created, if any.
  const disconnect = async (projectId: string, provider: IntegrationProvider) => {
    const { endpoint } = await disconnectIntegration(ctx, projectId, provider);
    const status = await integrationStatus(ctx.storage, projectId, provider);
    return endpoint ? { ...status, message: endpoint.message } : status;
  };
  const app = new Elysia({ prefix: "/api/v1" })
    .resolve(resolveApiProject(ctx))
    .get(
      "/payments",
      ({ project, query }) =>
        loadPayments(ctx.storage, project.id, {
          ...query,
          from: parseTimeBound(query.from, "from"),
          to: parseTimeBound(query.to, "to"),
        }),
      { query: listQuery },
    )
    .get("/payments/:paymentId", async ({ project, params }) => {
      const payment = await loadPayment(ctx.storage, project.id, params.paymentId);
      if (!payment) throw notFound(`there is no payment ${params.paymentId}`);
      return payment;
    })
    .post(
      "/payments",
      async ({ project, body, set }) => {
        apiPaymentToIncoming(body, ctx.now());
        const outcome = await ctx.writes.job(function* (tx) {
          const paidBefore =
            body.subscription !== undefined &&
            (yield* tx.get("SELECT id FROM payments WHERE project_id = ? AND provider = 'api' AND subscription_id = ? AND payment_key != ? LIMIT 1", [
              project.id,
              body.subscription.id,
              `api:${body.transactionId.trim()}`,
            ])) !== null;
          const incoming = apiPaymentToIncoming(body, ctx.now(), paidBefore);
          const existing = yield* tx.get<PaymentRow>("SELECT * FROM payments WHERE project_id = ? AND provider = 'api' AND payment_key = ?", [project.id, incoming.key]);
          if (!sameTransaction(existing, incoming.amount, incoming.currency, incoming.kind)) return { conflict: existing!.id };
          return { ...(yield* recordPayment(tx, project.id, incoming, null, ctx.now())), conflict: null };
        });
        if (!("paymentIds" in outcome)) throw conflict(`transaction ${body.transactionId} was recorded before with a different amount, currency or kind`, "transaction_conflict");
        set.status = outcome.duplicate ? 200 : 201;
        return (await loadPayment(ctx.storage, project.id, outcome.paymentIds[0]!))!;
      },
      { body: apiPaymentBody },
    )
    .get("/integrations", ({ project }) => listIntegrations(ctx.storage, project.id))
    .put("/integrations/stripe", ({ project, body }) => connect(project.id, "stripe", body.apiKey, body.webhookSecret), { body: stripeBody })
    .put("/integrations/polar", ({ project, body }) => connect(project.id, "polar", body.accessToken, body.webhookSecret), { body: polarBody })
    .delete("/integrations/stripe", ({ project }) => disconnect(project.id, "stripe"))
    .delete("/integrations/polar", ({ project }) => disconnect(project.id, "polar"));
  for (const provider of NATIVE_PROVIDER_IDS) {
    app
      .put(`/integrations/${provider}`, ({ project, body }) => connect(project.id, provider, body.apiKey, body.webhookSecret), { body: nativeBodies[provider] })
      .delete(`/integrations/${provider}`, ({ project }) => disconnect(project.id, provider));
  }
  return app;
}
