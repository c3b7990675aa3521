// POST /webhooks/{provider}/{projectId}: verify, adapt, record, then 2xx.
// A 2xx means the payment is on disk; a bad request is a 4xx that stores nothing; a failure on our
// side is a 5xx so the provider retries.
import { Elysia } from "elysia";
import Stripe from "stripe";
import { webhooks as polarWebhooks } from "@polar-sh/sdk/2026-10";
import type { AppContext } from "../context.ts";
import { ApiError, errorResponse } from "../http/errors.ts";
import { getProject } from "../projects/service.ts";
import { applyProviderEvent, providerEventSeen } from "./ledger.ts";
import { paymentMoneyProblem } from "./money.ts";
import { integrationSecret, recordEventReceived, recordSignatureFailure, type IntegrationProvider } from "./integrations.ts";
import { PROVIDER_NAMES } from "./guides.ts";
import { StripePayloadError, stripeEventToOps } from "./stripe/adapter.ts";
import { PolarPayloadError, polarEventToOps } from "./polar/adapter.ts";
import type { AdapterResult, LedgerOp, ProviderEvent } from "./types.ts";
import { withStripeSettlements } from "./stripe/settlement.ts";
import { NATIVE_PROVIDERS } from "./native-providers.ts";
import { NATIVE_PROVIDER_IDS, PayloadError, type NativeProvider, type NativeProviderId } from "./native.ts";

// Signature verification needs no API key; this instance never calls Stripe.
const stripeVerifier = new Stripe("sk_signature_verification_only");

const noStore = { "cache-control": "no-store" };

async function webhookSecretFor(ctx: AppContext, projectId: string, provider: IntegrationProvider): Promise<string | Response> {
  if (!(await getProject(ctx.storage, projectId))) return errorResponse(404, "unknown_project", `there is no project ${projectId}`);
  const secret = await integrationSecret(ctx, projectId, provider, "webhookSecret");
  if (!secret) {
    return errorResponse(404, "webhook_not_configured", `project ${projectId} has no ${PROVIDER_NAMES[provider]} webhook secret; connect it first`);
  }
  return secret;
}

/** Refuses a delivery whose signature does not verify, and counts it for the attribution doctor. */
async function refuseSignature(ctx: AppContext, projectId: string, provider: IntegrationProvider, code: "invalid_signature" | "stale_timestamp", message: string): Promise<Response> {
  await ctx.writes.job((tx) => recordSignatureFailure(tx, projectId, provider, code, ctx.now())).catch(() => {});
  return errorResponse(400, code, message);
}

/** Adapts and records one verified event; the answer goes out only after the commit. */
async function record(
  ctx: AppContext,
  projectId: string,
  event: ProviderEvent,
  adapt: () => AdapterResult,
  enrich: (ops: LedgerOp[]) => Promise<LedgerOp[]> = async (ops) => ops,
): Promise<Response> {
  let result: AdapterResult;
  try {
    result = adapt();
  } catch (error) {
    if (error instanceof StripePayloadError || error instanceof PolarPayloadError) return errorResponse(400, "invalid_payload", error.message);
    throw error;
  }
  if ("ignored" in result) return Response.json({ received: true, ignored: result.ignored }, { headers: noStore });
  // A retried delivery changes nothing (applyProviderEvent): it need not ask the provider for more first.
  const ops = (await providerEventSeen(ctx.storage, projectId, event)) ? result.ops : await enrich(result.ops);
  for (const op of ops) {
    const problem = op.op === "payment" ? paymentMoneyProblem(op.payment) : null;
    if (problem) return errorResponse(400, "invalid_payload", problem);
  }
  try {
    const applied = await ctx.writes.job(function* (tx) {
      const outcome = yield* applyProviderEvent(tx, projectId, event, ops, ctx.now());
      yield* recordEventReceived(tx, projectId, event.provider as IntegrationProvider, ctx.now());
      return outcome;
    });
    return Response.json({ received: true, duplicate: applied.duplicate, payments: applied.paymentIds }, { headers: noStore });
  } catch (error) {
    // Text the database refuses (PostgreSQL's cannot hold NUL): the provider sent something we cannot store.
    if (error instanceof ApiError) return errorResponse(error.httpStatus, error.code, error.message);
    console.error(`${event.provider} webhook ${event.eventId} for ${projectId} failed:`, (error as Error).message);
    return errorResponse(500, "internal_error", "the event could not be recorded; the provider will retry");
  }
}

async function stripeWebhook(ctx: AppContext, projectId: string, request: Request): Promise<Response> {
  const secret = await webhookSecretFor(ctx, projectId, "stripe");
  if (secret instanceof Response) return secret;
  const signature = request.headers.get("stripe-signature");
  if (!signature) return errorResponse(400, "missing_signature", "the Stripe-Signature header is missing");
  const raw = await request.text();
  let event: Stripe.Event;
  try {
    event = await stripeVerifier.webhooks.constructEventAsync(raw, signature, secret);
  } catch (error) {
    if (error instanceof SyntaxError) return errorResponse(400, "invalid_json", "the body is not valid JSON");
    if (/tolerance/i.test((error as Error).message)) {
      return refuseSignature(ctx, projectId, "stripe", "stale_timestamp", "the signature's timestamp is more than 5 minutes old (a replay, or a clock far off)");
    }
    return refuseSignature(ctx, projectId, "stripe", "invalid_signature", "the Stripe-Signature does not match this endpoint's signing secret");
  }
  if (typeof event?.id !== "string" || typeof event.type !== "string") return errorResponse(400, "invalid_payload", "the body is not a Stripe event");
  return record(
    ctx,
    projectId,
    { provider: "stripe", eventId: event.id, type: event.type, via: "webhook", payload: raw },
    () => stripeEventToOps(event as unknown as Parameters<typeof stripeEventToOps>[0]),
    (ops) => withStripeSettlements(ctx, projectId, ops),
  );
}

async function polarWebhook(ctx: AppContext, projectId: string, request: Request): Promise<Response> {
  const secret = await webhookSecretFor(ctx, projectId, "polar");
  if (secret instanceof Response) return secret;
  const raw = await request.text();
  const headers: Record<string, string> = {};
  for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"]) {
    const value = request.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  let payload: Awaited<ReturnType<typeof polarWebhooks.validateEvent>>;
  try {
    payload = await polarWebhooks.validateEvent(raw, headers, secret);
  } catch (error) {
    if (error instanceof polarWebhooks.PolarWebhookUnknownTypeError) {
      return Response.json({ received: true, ignored: `Bantico does not use ${error.eventType ?? "untyped"} events` }, { headers: noStore });
    }
    if (error instanceof polarWebhooks.PolarWebhookVerificationError) {
      const message = (error as Error).message;
      if (/missing/i.test(message)) return errorResponse(400, "missing_signature", "the webhook-id, webhook-timestamp and webhook-signature headers are required");
      if (/too old|too new/i.test(message)) {
        return refuseSignature(ctx, projectId, "polar", "stale_timestamp", "the webhook-timestamp is more than 5 minutes away from now (a replay, or a clock far off)");
      }
      return refuseSignature(ctx, projectId, "polar", "invalid_signature", "the webhook-signature does not match this endpoint's secret");
    }
    if (error instanceof polarWebhooks.PolarWebhookError) return errorResponse(400, "invalid_json", "the body is not valid JSON");
    throw error;
  }
  return record(ctx, projectId, { provider: "polar", eventId: headers["webhook-id"]!, type: payload.type, via: "webhook", payload: raw }, () =>
    polarEventToOps(payload as { type: string; timestamp?: string; data: unknown }),
  );
}

/** Dodo, Lemon Squeezy, Paddle and Creem: the signature first, then the body; a refusal stores nothing. */
async function nativeWebhook(ctx: AppContext, provider: NativeProvider, projectId: string, request: Request): Promise<Response> {
  const secret = await webhookSecretFor(ctx, projectId, provider.id);
  if (secret instanceof Response) return secret;
  const raw = await request.text();
  const check = provider.checkSignature(raw, request.headers, secret, ctx.now());
  if (check === "missing") return errorResponse(400, "missing_signature", `the ${provider.signatureHeaders} header is missing`);
  if (check === "invalid") return refuseSignature(ctx, projectId, provider.id, "invalid_signature", `the signature does not match this project's ${provider.name} webhook secret`);
  if (check === "stale") return refuseSignature(ctx, projectId, provider.id, "stale_timestamp", "the signature's timestamp is more than 5 minutes away from now (a replay, or a clock far off)");
  let event: unknown;
  try {
    event = JSON.parse(raw);
  } catch {
    return errorResponse(400, "invalid_json", "the body is not valid JSON");
  }
  if (event === null || typeof event !== "object" || Array.isArray(event)) return errorResponse(400, "invalid_payload", `the body is not a ${provider.name} event`);
  const body = event as Record<string, unknown>;
  const { eventId, type } = provider.identify(body, raw, request.headers);
  let result: AdapterResult;
  try {
    result = provider.adapt(body);
  } catch (error) {
    if (error instanceof PayloadError) return errorResponse(400, "invalid_payload", error.message);
    throw error;
  }
  if ("ops" in result) await provider.addCustomerEmails?.(ctx, projectId, result.ops);
  return record(ctx, projectId, { provider: provider.id, eventId, type, via: "webhook", payload: raw }, () => result);
}

export function paymentWebhooks(ctx: AppContext) {
  return new Elysia()
    .post("/webhooks/stripe/:projectId", ({ params, request }) => stripeWebhook(ctx, params.projectId, request), { parse: "none" })
    .post("/webhooks/polar/:projectId", ({ params, request }) => polarWebhook(ctx, params.projectId, request), { parse: "none" })
    .post(
      "/webhooks/:provider/:projectId",
      ({ params, request }) =>
        NATIVE_PROVIDER_IDS.includes(params.provider as NativeProviderId)
          ? nativeWebhook(ctx, NATIVE_PROVIDERS[params.provider as NativeProviderId], params.projectId, request)
          : errorResponse(404, "unknown_provider", `Bantico receives webhooks from ${["stripe", "polar", ...NATIVE_PROVIDER_IDS].join(", ")}`),
      { parse: "none" },
    );
}
