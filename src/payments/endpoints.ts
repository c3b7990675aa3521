// Where the provider SDKs send their requests: the real APIs, or a local fake server in tests.
import type { AppContext } from "../context.ts";

export interface ProviderEndpoints {
  /** e.g. "http://127.0.0.1:4010"; unset = api.stripe.com. */
  stripe?: string;
  /** e.g. "http://127.0.0.1:4010"; unset = api.polar.sh. */
  polar?: string;
  /** Live and test hosts: Dodo, Paddle and Creem keys belong to one mode, and connect says which. */
  dodo?: string;
  dodoTest?: string;
  lemonsqueezy?: string;
  paddle?: string;
  paddleSandbox?: string;
  creem?: string;
  creemTest?: string;
}

const endpointsByContext = new WeakMap<AppContext, ProviderEndpoints>();

export function setProviderEndpoints(ctx: AppContext, endpoints: ProviderEndpoints): void {
  endpointsByContext.set(ctx, endpoints);
}

export function providerEndpoints(ctx: AppContext): ProviderEndpoints {
  return endpointsByContext.get(ctx) ?? {};
}
