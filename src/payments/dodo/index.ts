// Dodo Payments: Standard Webhooks deliveries, a key checked against both modes on connect, and
// pulls of GET /payments and GET /refunds (0-based page_number; list items lack tax, so new
// payments are read once more by id).
import type { AppContext } from "../../context.ts";
import { providerEndpoints } from "../endpoints.ts";
import { explainProviderError, providerGet, ProviderApiError } from "../provider-api.ts";
import { pullPass, type PulledPage } from "../pulled.ts";
import { obj, str, type NativeProvider } from "../native.ts";
import { checkStandardWebhook } from "../signatures.ts";
import { dodoEventToOps, dodoPaymentToOps, dodoRefund } from "./adapter.ts";

const PAGE_SIZE = 100;
const FORBIDDEN = "the Dodo Payments key may not read payments; create an API key in Developer → API Keys (read access is enough)";

function hosts(ctx: AppContext) {
  const endpoints = providerEndpoints(ctx);
  return { live: endpoints.dodo ?? "https://live.dodopayments.com", test: endpoints.dodoTest ?? "https://test.dodopayments.com" };
}

const get = (base: string, key: string, path: string) => providerGet(`${base}${path}`, { authorization: `Bearer ${key}` });

async function* pages(base: string, key: string, path: string, since: number): AsyncGenerator<unknown[]> {
  for (let page = 0; ; page++) {
    const query = new URLSearchParams({ created_at_gte: new Date(since).toISOString(), page_size: String(PAGE_SIZE), page_number: String(page) });
    const items = obj(await get(base, key, `${path}?${query}`))?.items;
    const list = Array.isArray(items) ? items : [];
    yield list;
    if (list.length < PAGE_SIZE) return;
  }
}

async function isRecorded(ctx: AppContext, projectId: string, key: string): Promise<boolean> {
  return (await ctx.storage.get("SELECT 1 AS yes FROM payments WHERE project_id = ? AND provider = 'dodo' AND payment_key = ?", [projectId, key])) !== null;
}

export const dodo: NativeProvider = {
  id: "dodo",
  name: "Dodo Payments",
  signatureHeaders: "webhook-id, webhook-timestamp and webhook-signature",
  checkSignature: (raw, headers, secret, now) => checkStandardWebhook(raw, headers, secret, now),
  identify: (event, _raw, headers) => ({ eventId: headers.get("webhook-id")!, type: str(event.type) ?? "untyped" }),
  adapt: dodoEventToOps,
  explainError: (error) => explainProviderError("Dodo Payments", error, FORBIDDEN),
  async verifyCredential(ctx, key) {
    const { live, test } = hosts(ctx);
    try {
      await get(live, key, "/payments?page_size=1");
      return { ok: true, message: "connected: the key can read payments" };
    } catch (error) {
      if (error instanceof ProviderApiError && error.status === 401) {
        const testMode = await get(test, key, "/payments?page_size=1").then(() => true, () => false);
        if (testMode) return { ok: false, status: 400, code: "test_mode_credential", message: "this key is for Dodo Payments' test mode; Bantico counts live payments, so create the key in live mode" };
      }
      return { ok: false, ...explainProviderError("Dodo Payments", error, FORBIDDEN) };
    }
  },
  pull(ctx, projectId, shouldStop) {
    const { live } = hosts(ctx);
    return pullPass(ctx, projectId, "dodo", shouldStop, async function* (key, since): AsyncGenerator<PulledPage> {
      for await (const list of pages(live, key, "/payments", since)) {
        const items = [];
        for (const item of list) {
          const summary = obj(item);
          const id = str(summary?.payment_id);
          if (!summary || !id || shouldStop()) continue;
          // The list lacks tax and refunds: a payment not on the ledger yet is read in full.
          const full = (await isRecorded(ctx, projectId, `pay:${id}`)) ? summary : (obj(await get(live, key, `/payments/${encodeURIComponent(id)}`)) ?? summary);
          items.push({ eventId: `payment:${id}:${String(full.refund_status ?? "")}`, type: "payment (pulled)", payload: full, result: dodoPaymentToOps(full) });
        }
        yield { items, fraction: null };
      }
      for await (const list of pages(live, key, "/refunds", since)) {
        const refunds = list.map(obj).filter((r) => r !== null && str(r.refund_id) && r.status === "succeeded");
        yield { items: refunds.map((r) => ({ eventId: `refund:${str(r!.refund_id)}`, type: "refund (pulled)", payload: r, result: { ops: [dodoRefund(r!, Date.now())] } })), fraction: null };
      }
    });
  },
};
