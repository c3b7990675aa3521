// Creem: creem-signature deliveries (an HMAC without timestamp: the body's event id dedupes, so a
// replay never counts twice), keys checked against both hosts, and pulls of transactions/search
// (no date filter: read until older than the pass).
import type { AppContext } from "../../context.ts";
import { providerEndpoints } from "../endpoints.ts";
import { explainProviderError, providerGet, ProviderApiError } from "../provider-api.ts";
import { pullPass } from "../pulled.ts";
import { bodyEventId, obj, str, time, type Json, type NativeProvider } from "../native.ts";
import { checkBodyHmac } from "../signatures.ts";
import { creemEventToOps, creemTransactionToOps } from "./adapter.ts";

const PAGE_SIZE = 100;
const MAX_PAGES = 50;
const FORBIDDEN = "Creem refuses this key (Creem answers 403 for an unknown key too): copy the live key from Developers → API keys again";

function hosts(ctx: AppContext) {
  const endpoints = providerEndpoints(ctx);
  return { live: endpoints.creem ?? "https://api.creem.io", test: endpoints.creemTest ?? "https://test-api.creem.io" };
}

const get = (base: string, key: string, path: string) => providerGet(`${base}${path}`, { "x-api-key": key });

export const creem: NativeProvider = {
  id: "creem",
  name: "Creem",
  signatureHeaders: "creem-signature",
  checkSignature: (raw, headers, secret) => checkBodyHmac(raw, headers.get("creem-signature"), secret),
  identify: (event, raw) => ({ eventId: str(event.id) ?? bodyEventId(raw), type: str(event.eventType) ?? "untyped" }),
  adapt: creemEventToOps,
  explainError: (error) => explainProviderError("Creem", error, FORBIDDEN),
  async verifyCredential(ctx, key) {
    const { live, test } = hosts(ctx);
    const testMode = "this key is for Creem's test mode; Bantico counts live payments, so use the live key from Developers → API keys";
    if (key.startsWith("creem_test_")) return { ok: false, status: 400, code: "test_mode_credential", message: testMode };
    try {
      await get(live, key, "/v1/transactions/search?page_size=1");
      return { ok: true, message: "connected: the key can read transactions" };
    } catch (error) {
      if (error instanceof ProviderApiError && (error.status === 401 || error.status === 403)) {
        const isTest = await get(test, key, "/v1/transactions/search?page_size=1").then(() => true, () => false);
        if (isTest) return { ok: false, status: 400, code: "test_mode_credential", message: testMode };
        return { ok: false, status: 400, code: "invalid_credential", message: "Creem does not accept this key (revoked or mistyped)" };
      }
      return { ok: false, ...explainProviderError("Creem", error, FORBIDDEN) };
    }
  },
  pull(ctx, projectId, shouldStop) {
    const { live } = hosts(ctx);
    return pullPass(ctx, projectId, "creem", shouldStop, async function* (key, since) {
      for (let page = 1; page <= MAX_PAGES; page++) {
        const body = obj(await get(live, key, `/v1/transactions/search?page_number=${page}&page_size=${PAGE_SIZE}`));
        const list = (Array.isArray(body?.items) ? body.items : []).map(obj).filter((t): t is Json => t !== null);
        const recent = list.filter((t) => (time(t.created_at) ?? 0) >= since);
        yield {
          items: recent.map((t) => ({ eventId: `transaction:${str(t.id)}:${String(t.refunded_amount ?? 0)}`, type: "transaction (pulled)", payload: t, result: creemTransactionToOps(t) })),
          fraction: null,
        };
        const pagination = obj(body?.pagination);
        if (recent.length < list.length || list.length === 0 || pagination?.next_page == null) return;
      }
    });
  },
};
