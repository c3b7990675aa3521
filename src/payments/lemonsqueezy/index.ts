// Lemon Squeezy: X-Signature deliveries (no event id: a delivery is known by its body's hash),
// and pulls of orders, subscriptions (to link renewals to their first order) and subscription
// invoices, newest first without a date filter, read until older than the pass's start.
import type { AppContext } from "../../context.ts";
import { providerEndpoints } from "../endpoints.ts";
import { explainProviderError, providerGet } from "../provider-api.ts";
import { pullPass, type PulledItem, type PulledPage } from "../pulled.ts";
import { bodyEventId, obj, str, time, type Json, type NativeProvider } from "../native.ts";
import { checkBodyHmac } from "../signatures.ts";
import { lemonSqueezyEventToOps, lemonSqueezyInvoiceToOps, lemonSqueezyOrderToOps } from "./adapter.ts";

const PAGE_SIZE = 100;
const FORBIDDEN = "the Lemon Squeezy key may not read orders; create a new API key in Settings → API";

const base = (ctx: AppContext) => providerEndpoints(ctx).lemonsqueezy ?? "https://api.lemonsqueezy.com";
const get = (ctx: AppContext, key: string, path: string) =>
  providerGet(`${base(ctx)}${path}`, { authorization: `Bearer ${key}`, accept: "application/vnd.api+json" });

/** Pages of one resource, newest first, until an item is older than `since`. */
async function* newestFirst(ctx: AppContext, key: string, resource: string, since: number, toItem: (item: Json) => PulledItem | null): AsyncGenerator<PulledPage> {
  for (let page = 1; ; page++) {
    const body = obj(await get(ctx, key, `/v1/${resource}?page[number]=${page}&page[size]=${PAGE_SIZE}`));
    const list = (Array.isArray(body?.data) ? body.data : []).map(obj).filter((item): item is Json => item !== null);
    const recent = list.filter((item) => (time(obj(item.attributes)?.created_at) ?? 0) >= since);
    yield { items: recent.map(toItem).filter((item): item is PulledItem => item !== null), fraction: null };
    if (recent.length < list.length || list.length < PAGE_SIZE || !obj(body?.links)?.next) return;
  }
}

export const lemonsqueezy: NativeProvider = {
  id: "lemonsqueezy",
  name: "Lemon Squeezy",
  signatureHeaders: "X-Signature",
  checkSignature: (raw, headers, secret) => checkBodyHmac(raw, headers.get("x-signature"), secret),
  identify: (event, raw) => ({ eventId: bodyEventId(raw), type: str(obj(event.meta)?.event_name) ?? "untyped" }),
  adapt: lemonSqueezyEventToOps,
  explainError: (error) => explainProviderError("Lemon Squeezy", error, FORBIDDEN),
  async verifyCredential(ctx, key) {
    try {
      await get(ctx, key, "/v1/users/me");
      await get(ctx, key, "/v1/orders?page[size]=1");
      return { ok: true, message: "connected: the key can read orders (backfilled orders are attributed by email: Lemon Squeezy's API has no custom data)" };
    } catch (error) {
      return { ok: false, ...explainProviderError("Lemon Squeezy", error, FORBIDDEN) };
    }
  },
  pull(ctx, projectId, shouldStop) {
    return pullPass(ctx, projectId, "lemonsqueezy", shouldStop, async function* (key, since) {
      const state = (item: Json) => `${str(obj(item.attributes)?.status) ?? ""}:${String(obj(item.attributes)?.refunded_amount ?? 0)}`;
      yield* newestFirst(ctx, key, "orders", since, (order) => ({
        eventId: `order:${str(order.id)}:${state(order)}`,
        type: "order (pulled)",
        payload: order,
        result: lemonSqueezyOrderToOps(order, null),
      }));
      yield* newestFirst(ctx, key, "subscriptions", since, (subscription) => {
        const orderId = str(obj(subscription.attributes)?.order_id);
        if (!orderId) return null;
        return { eventId: `subscription:${str(subscription.id)}`, type: "subscription (pulled)", payload: subscription, result: { ops: [{ op: "subscription_order", provider: "lemonsqueezy", subscriptionId: str(subscription.id)!, orderId }] } };
      });
      yield* newestFirst(ctx, key, "subscription-invoices", since, (invoice) => ({
        eventId: `invoice:${str(invoice.id)}:${state(invoice)}`,
        type: "subscription invoice (pulled)",
        payload: invoice,
        result: lemonSqueezyInvoiceToOps(invoice, null),
      }));
    });
  },
};
