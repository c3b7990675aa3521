// The Polar SDK (1.0, API 2026-10) for one connection, and what verifying a token tells the founder.
import { createPolar, type Polar } from "@polar-sh/sdk/2026-10";
import type { AppContext } from "../../context.ts";
import { providerEndpoints } from "../endpoints.ts";
import type { Verdict } from "../stripe/client.ts";

export function polarClient(ctx: AppContext, accessToken: string): Polar {
  const baseUrl = providerEndpoints(ctx).polar;
  return createPolar(baseUrl ? { accessToken, baseUrl } : { accessToken });
}

/** Explains a Polar API failure without echoing the response (it is not ours to show). */
export function explainPolarError(error: unknown): { status: number; code: string; message: string } {
  const e = error as { statusCode?: number; message?: string; name?: string };
  if (e.statusCode === 403 || /insufficient_scope/i.test(e.message ?? "")) {
    return { status: 400, code: "missing_permission", message: "the Polar token lacks the orders:read scope; create an organization access token with orders:read" };
  }
  if (e.statusCode === 401) return { status: 400, code: "invalid_credential", message: "Polar does not accept this access token (expired, revoked or mistyped)" };
  if (e.name === "PolarNetworkError") return { status: 502, code: "provider_unreachable", message: "Polar could not be reached; try again" };
  return { status: 502, code: "provider_error", message: `Polar answered with an error${e.statusCode ? ` (HTTP ${e.statusCode})` : ""}` };
}

export async function verifyPolarToken(ctx: AppContext, accessToken: string): Promise<Verdict> {
  try {
    await polarClient(ctx, accessToken).orders.list({ limit: 1 });
  } catch (error) {
    return { ok: false, ...explainPolarError(error) };
  }
  return { ok: true, message: "connected: the token can read orders" };
}
