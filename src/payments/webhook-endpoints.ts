// Real-time delivery without copy-pasting a secret: when the credential may create webhook
// endpoints and Bantico knows its public URL, connect creates the endpoint and keeps its secret.
import type { AppContext } from "../context.ts";
import { explainStripeError, stripeClient } from "./stripe/client.ts";
import { explainPolarError, polarClient } from "./polar/client.ts";
import { STRIPE_EVENT_TYPES } from "./stripe/adapter.ts";
import { POLAR_EVENT_TYPES } from "./polar/adapter.ts";

export type EndpointOutcome = { id: string; secret: string; message: string } | { id: string | null; secret: null; message: string };

export async function createWebhookEndpoint(ctx: AppContext, provider: "stripe" | "polar", credential: string, url: string): Promise<EndpointOutcome> {
  try {
    const endpoint =
      provider === "stripe"
        ? await stripeClient(ctx, credential).webhookEndpoints.create({ url, enabled_events: [...STRIPE_EVENT_TYPES], description: "Bantico" })
        : await polarClient(ctx, credential).webhooks.createWebhookEndpoint({ url, format: "raw", events: [...POLAR_EVENT_TYPES] });
    if (endpoint.secret) return { id: endpoint.id, secret: endpoint.secret, message: `webhook endpoint ${endpoint.id} created at ${url}` };
    return { id: endpoint.id, secret: null, message: "the provider created no signing secret; add the endpoint's secret yourself for real-time payments" };
  } catch (error) {
    const why = (provider === "stripe" ? explainStripeError(error) : explainPolarError(error)).message;
    const permission = provider === "stripe" ? "Webhook Endpoints: Write" : "webhooks:write";
    return { id: null, secret: null, message: `pulling every 5 minutes; no webhook endpoint was created (${why}). Allow ${permission} or add an endpoint's signing secret for real-time payments` };
  }
}

export interface EndpointDeletion {
  /** False when the endpoint may still exist at the provider. */
  deleted: boolean;
  message: string;
}

/** Deletes an endpoint connect created. An endpoint that is already gone counts as deleted. */
export async function deleteWebhookEndpoint(ctx: AppContext, provider: "stripe" | "polar", credential: string, id: string): Promise<EndpointDeletion> {
  try {
    if (provider === "stripe") await stripeClient(ctx, credential).webhookEndpoints.del(id);
    else await polarClient(ctx, credential).webhooks.deleteWebhookEndpoint(id);
    return { deleted: true, message: `webhook endpoint ${id} deleted` };
  } catch (error) {
    const status = (error as { statusCode?: number }).statusCode;
    if (status === 404) return { deleted: true, message: `webhook endpoint ${id} was already deleted` };
    const why = status === 401 ? "the key is no longer accepted" : status === 403 ? "the key may not delete webhook endpoints" : status ? `HTTP ${status}` : "the provider could not be reached";
    return { deleted: false, message: `webhook endpoint ${id} could not be deleted (${why}); delete it in ${provider === "stripe" ? "Stripe" : "Polar"}'s dashboard` };
  }
}
