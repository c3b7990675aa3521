// Settings → integrations: connect a payment provider with the payments service, show status and the
// backfill progress (polled by htmx while it runs), disconnect.
import { ApiError } from "../http/errors.ts";
import { connectIntegration, disconnectIntegration, INTEGRATION_PROVIDERS, integrationStatus, listIntegrations, type IntegrationProvider } from "../payments/integrations.ts";
import { paymentScheduler } from "../payments/pull.ts";
import { DashboardError, formString, redirectTo, type DashboardRequest, type DashboardRouter } from "./routing.ts";
import { integrationStatusBlock } from "../../views/settings.ts";
import type { FieldErrors } from "../../views/components.ts";

function providerOf(req: DashboardRequest): IntegrationProvider {
  const provider = req.params.provider as IntegrationProvider;
  if (!INTEGRATION_PROVIDERS.includes(provider)) throw new DashboardError(404, "Bantico connects to Stripe, Polar, Dodo Payments, Lemon Squeezy, Paddle and Creem.");
  return provider;
}

export const integrationsSource = (req: DashboardRequest) => listIntegrations(req.ctx.storage, req.project.id);

/** Which field a refusal from the payments service belongs next to. */
function fieldFor(code: string): "credential" | "webhookSecret" {
  return code === "invalid_webhook_secret" ? "webhookSecret" : "credential";
}

/**
 * `renderSettings` re-renders the whole settings page with the errors for one provider (422),
 * so the form keeps its place and the message sits next to its field.
 */
export function integrationPages(renderSettings: (req: DashboardRequest, errors: Partial<Record<IntegrationProvider, FieldErrors>>) => Promise<Response>) {
  return (router: DashboardRouter) => {
    router
      .post("/settings/integrations/:provider", async (req) => {
        const provider = providerOf(req);
        const credential = formString(req.form, "credential").trim();
        const webhookSecret = formString(req.form, "webhookSecret").trim();
        const noun = provider === "stripe" ? "a restricted API key" : provider === "polar" ? "an access token" : "an API key";
        if (!credential && !webhookSecret) {
          return renderSettings(req, { [provider]: { credential: `Enter ${noun}, a webhook signing secret, or both.` } });
        }
        if (credential.length > 500 || webhookSecret.length > 500) {
          return renderSettings(req, { [provider]: { [credential.length > 500 ? "credential" : "webhookSecret"]: "This is too long to be a key." } });
        }
        try {
          await connectIntegration(req.ctx, req.project.id, provider, { credential: credential || undefined, webhookSecret: webhookSecret || undefined });
        } catch (error) {
          if (error instanceof ApiError && error.httpStatus < 500) {
            return renderSettings(req, { [provider]: { [fieldFor(error.code)]: sentence(error.message) } });
          }
          throw error;
        }
        // The backfill starts now rather than at the scheduler's next tick; the status block shows its progress.
        if (credential) void paymentScheduler(req.ctx)?.runNow(req.project.id, provider);
        return redirectTo(req, `/dashboard/${req.project.id}/settings/integrations?saved=connected#integration-${provider}`);
      })
      .post("/settings/integrations/:provider/disconnect", async (req) => {
        const provider = providerOf(req);
        const { endpoint } = await disconnectIntegration(req.ctx, req.project.id, provider);
        const saved = !endpoint ? "disconnected" : endpoint.deleted ? "disconnected_endpoint_deleted" : "disconnected_endpoint_left";
        return redirectTo(req, `/dashboard/${req.project.id}/settings/integrations?saved=${saved}#integration-${provider}`);
      })
      .get("/settings/integrations/:provider/status", async (req) => {
        const provider = providerOf(req);
        return integrationStatusBlock(req.project.id, req.project.timezone, await integrationStatus(req.ctx.storage, req.project.id, provider));
      });
  };
}

function sentence(message: string): string {
  const text = message.charAt(0).toUpperCase() + message.slice(1);
  return /[.!?]$/.test(text) ? text : `${text}.`;
}
