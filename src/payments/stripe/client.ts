// The Stripe SDK for one connection, and what verifying a restricted key tells the founder.
import Stripe from "stripe";
import type { AppContext } from "../../context.ts";
import { providerEndpoints } from "../endpoints.ts";

export type Verdict = { ok: true; message: string } | { ok: false; status: number; code: string; message: string };

export function stripeClient(ctx: AppContext, apiKey: string): Stripe {
  const base = providerEndpoints(ctx).stripe;
  if (!base) return new Stripe(apiKey, { maxNetworkRetries: 2, timeout: 20_000 });
  const url = new URL(base);
  return new Stripe(apiKey, {
    host: url.hostname,
    port: url.port || (url.protocol === "https:" ? 443 : 80),
    protocol: url.protocol === "https:" ? "https" : "http",
    maxNetworkRetries: 0,
    timeout: 10_000,
  });
}

/** "rak_event_read" → "Events: Read (rak_event_read)": the words the Stripe dashboard uses. */
export function describeStripePermission(permission: string): string {
  const match = /^rak_(.+)_(read|write)$/.exec(permission);
  if (!match) return permission;
  const resource = match[1]!.split("_").map((w) => w[0]!.toUpperCase() + w.slice(1)).join(" ");
  return `${resource}${resource.endsWith("s") ? "" : "s"}: ${match[2] === "read" ? "Read" : "Write"} (${permission})`;
}

/** Explains a Stripe API failure without repeating Stripe's message (it can quote part of the key). */
export function explainStripeError(error: unknown): { status: number; code: string; message: string } {
  const e = error as { type?: string; statusCode?: number; message?: string };
  const permission = /rak_[a-z_]+/.exec(e.message ?? "")?.[0];
  if (permission) {
    return { status: 400, code: "missing_permission", message: `the Stripe key lacks the permission ${describeStripePermission(permission)}; edit the restricted key in Stripe and allow it` };
  }
  if (e.type === "StripeAuthenticationError" || e.statusCode === 401) {
    return { status: 400, code: "invalid_credential", message: "Stripe does not accept this key (revoked, mistyped, or from another account)" };
  }
  if (e.type === "StripePermissionError" || e.statusCode === 403) {
    return { status: 400, code: "missing_permission", message: "the Stripe key is not allowed to read events; give the restricted key read access to Events" };
  }
  if (e.type === "StripeConnectionError") return { status: 502, code: "provider_unreachable", message: "Stripe could not be reached; try again" };
  return { status: 502, code: "provider_error", message: `Stripe answered with an error${e.statusCode ? ` (HTTP ${e.statusCode})` : ""}` };
}

/** Pulling needs Events: Read; a key that cannot list events is refused with the missing permission named. */
export async function verifyStripeKey(ctx: AppContext, apiKey: string): Promise<Verdict> {
  try {
    await stripeClient(ctx, apiKey).events.list({ limit: 1 });
  } catch (error) {
    return { ok: false, ...explainStripeError(error) };
  }
  return {
    ok: true,
    message: apiKey.startsWith("sk_")
      ? "connected with a secret key; a restricted key with read access only is safer"
      : "connected: the key can read events",
  };
}
