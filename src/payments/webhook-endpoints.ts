// Real-time delivery without copy-pasting a secret: when the credential may create webhook
// endpoints and Bantico knows its public URL, connect creates the endpoint and keeps its secret.
import type { AppContext } from "../context.ts";
import type { IntegrationProvider } from "./integrations.ts";
import { explainStripeError, stripeClient } from "./stripe/client.ts";
import { explainPolarError, polarClient } from "./polar/client.ts";
import { STRIPE_EVENT_TYPES } from "./stripe/adapter.ts";
import { POLAR_EVENT_TYPES } from "./polar/adapter.ts";

export type EndpointOutcome = { secret: string; message: string } | { secret: null; message: string };

export async function createWebhookEndpoint(ctx: AppContext, provider: IntegrationProvider, credential: string, url: string): Promise<EndpointOutcome> {
  try {
    if (provider === "stripe") {
      const endpoint = await stripeClient(ctx, credential).webhookEndpoints.create({ url, enabled_events: [...STRIPE_EVENT_TYPES], description: "Bantico" });
      if (endpoint.secret) return { secret: endpoint.secret, message: `webhook endpoint ${endpoint.id} created at ${url}` };
    } else {
      const endpoint = await polarClient(ctx, credential).webhooks.createWebhookEndpoint({ url, format: "raw", events: [...POLAR_EVENT_TYPES] });
      if (endpoint.secret) return { secret: endpoint.secret, message: `webhook endpoint ${endpoint.id} created at ${url}` };
    }
    return { secret: null, message: "the provider created no signing secret; add the endpoint's secret yourself for real-time payments" };
  } catch (error) {
    const why = (provider === "stripe" ? explainStripeError(error) : explainPolarError(error)).message;
    const permission = provider === "stripe" ? "Webhook Endpoints: Write" : "webhooks:write";
    return { secret: null, message: `pulling every 5 minutes; no webhook endpoint was created (${why}). Allow ${permission} or add an endpoint's signing secret for real-time payments` };
  }
}
