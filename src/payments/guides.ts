// What a founder needs to connect each provider: its name, what key to create, where the webhook
// secret comes from, and exactly which events to subscribe the endpoint to.
import type { IntegrationProvider } from "./integrations.ts";
import { STRIPE_EVENT_TYPES } from "./stripe/adapter.ts";
import { POLAR_EVENT_TYPES } from "./polar/adapter.ts";
import { DODO_EVENT_TYPES } from "./dodo/adapter.ts";
import { LEMONSQUEEZY_EVENT_TYPES } from "./lemonsqueezy/adapter.ts";
import { PADDLE_EVENT_TYPES } from "./paddle/adapter.ts";
import { CREEM_EVENT_TYPES } from "./creem/adapter.ts";

export const PROVIDER_NAMES: Record<IntegrationProvider, string> = {
  stripe: "Stripe",
  polar: "Polar",
  dodo: "Dodo Payments",
  lemonsqueezy: "Lemon Squeezy",
  paddle: "Paddle Billing",
  creem: "Creem",
};

export interface ProviderGuide {
  name: string;
  credentialLabel: string;
  /** Which key to create, and with which permissions. */
  credentialHint: string;
  /** Where the webhook signing secret comes from. */
  webhookSecretHint: string;
  /** The events to subscribe the endpoint to; others are acknowledged and ignored. */
  events: readonly string[];
}

export const PROVIDER_GUIDES: Record<IntegrationProvider, ProviderGuide> = {
  stripe: {
    name: PROVIDER_NAMES.stripe,
    credentialLabel: "Restricted API key",
    credentialHint:
      "A restricted key (rk_live_…) with read access to Charges, Checkout Sessions, Invoices, Customers, Events and Balance; Balance lets Bantico use Stripe's own conversion of foreign-currency payments.",
    webhookSecretHint: "The endpoint's signing secret (whsec_…), for payments in real time.",
    events: STRIPE_EVENT_TYPES,
  },
  polar: {
    name: PROVIDER_NAMES.polar,
    credentialLabel: "Organization access token",
    credentialHint: "An organization access token with orders:read.",
    webhookSecretHint: "The secret of the webhook endpoint (format Raw), for payments in real time.",
    events: POLAR_EVENT_TYPES,
  },
  dodo: {
    name: PROVIDER_NAMES.dodo,
    credentialLabel: "API key",
    credentialHint: "A live-mode API key from Developer → API Keys; read access is enough.",
    webhookSecretHint: "The endpoint's signing secret (whsec_…) from Developer → Webhooks.",
    events: DODO_EVENT_TYPES,
  },
  lemonsqueezy: {
    name: PROVIDER_NAMES.lemonsqueezy,
    credentialLabel: "API key",
    credentialHint: "A live-mode API key from Settings → API. Lemon Squeezy's API never returns checkout custom data, so backfilled orders are attributed by email.",
    webhookSecretHint: "The signing secret you typed when adding the webhook in Settings → Webhooks (6–40 characters).",
    events: LEMONSQUEEZY_EVENT_TYPES,
  },
  paddle: {
    name: PROVIDER_NAMES.paddle,
    credentialLabel: "API key",
    credentialHint: "A live API key (pdl_live_apikey_…) with transaction.read, adjustment.read and customer.read.",
    webhookSecretHint: "The notification destination's secret key (pdl_ntfset_…) from Developer tools → Notifications.",
    events: PADDLE_EVENT_TYPES,
  },
  creem: {
    name: PROVIDER_NAMES.creem,
    credentialLabel: "API key",
    credentialHint: "A live API key (creem_…) from Developers → API keys.",
    webhookSecretHint: "The webhook's signing secret (whsec_…) from Developers → Webhooks.",
    events: CREEM_EVENT_TYPES,
  },
};
