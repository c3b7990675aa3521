// Paddle Billing: Paddle-Signature deliveries checked by hand (the SDK allows 5 s of clock skew and
// reads only the last h1), the API root to check a key's environment and permissions, and pulls of
// completed transactions (cursor pages) and approved adjustments.
import type { AppContext } from "../../context.ts";
import { providerEndpoints } from "../endpoints.ts";
import { explainProviderError, providerGet, ProviderApiError } from "../provider-api.ts";
import { pullPass, type PulledItem } from "../pulled.ts";
import { integrationSecret } from "../integrations.ts";
import { normalizeEmail } from "../metadata.ts";
import type { LedgerOp } from "../types.ts";
import { bodyEventId, obj, str, time, type Json, type NativeProvider } from "../native.ts";
import { checkPaddleSignature } from "../signatures.ts";
import { paddleAdjustmentToOps, paddleEventToOps, paddleTransactionToOps } from "./adapter.ts";

const PER_PAGE = 30;
const REQUIRED_PERMISSIONS = ["transaction.read", "adjustment.read"];
const FORBIDDEN = `the Paddle key lacks a permission Bantico needs; edit the key in Developer tools → Authentication and allow ${REQUIRED_PERMISSIONS.join(" and ")}`;

function hosts(ctx: AppContext) {
  const endpoints = providerEndpoints(ctx);
  return { live: endpoints.paddle ?? "https://api.paddle.com", sandbox: endpoints.paddleSandbox ?? "https://sandbox-api.paddle.com" };
}

const get = (base: string, key: string, path: string) => providerGet(`${base}${path}`, { authorization: `Bearer ${key}` });

/** A list's items, following meta.pagination.next while has_more. */
async function* cursorPages(base: string, key: string, path: string): AsyncGenerator<Json[]> {
  let url: string | null = `${base}${path}`;
  while (url) {
    const body = obj(await providerGet(url, { authorization: `Bearer ${key}` }));
    yield (Array.isArray(body?.data) ? body.data : []).map(obj).filter((item): item is Json => item !== null);
    const pagination = obj(obj(body?.meta)?.pagination);
    const next = str(pagination?.next);
    // The next link carries Paddle's own host; keep ours (a test's fake API answers on another).
    url = pagination?.has_more === true && next ? `${base}${new URL(next).pathname}${new URL(next).search}` : null;
  }
}

/** Paddle's transactions name the customer only: read their emails (customer.read), once per customer, so email attribution works. */
async function addCustomerEmails(base: string, key: string, ops: LedgerOp[], timeoutMs: number): Promise<void> {
  const emails = new Map<string, string | null>();
  for (const op of ops) {
    if (op.op !== "payment" || op.payment.email || !op.payment.customerId) continue;
    const id = op.payment.customerId;
    if (!emails.has(id)) {
      const customer = await providerGet(`${base}/customers/${encodeURIComponent(id)}`, { authorization: `Bearer ${key}` }, timeoutMs).catch(() => null);
      emails.set(id, normalizeEmail(obj(obj(customer)?.data)?.email));
    }
    op.payment.email = emails.get(id) ?? null;
  }
}

async function withCustomerEmails(base: string, key: string, items: PulledItem[]): Promise<PulledItem[]> {
  await addCustomerEmails(base, key, items.flatMap((item) => ("ops" in item.result ? item.result.ops : [])), 20_000);
  return items;
}

export const paddle: NativeProvider = {
  id: "paddle",
  name: "Paddle",
  signatureHeaders: "Paddle-Signature",
  checkSignature: (raw, headers, secret, now) => checkPaddleSignature(raw, headers.get("paddle-signature"), secret, now),
  identify: (event, raw) => ({ eventId: str(event.event_id) ?? bodyEventId(raw), type: str(event.event_type) ?? "untyped" }),
  adapt: paddleEventToOps,
  async addCustomerEmails(ctx, projectId, ops) {
    const key = await integrationSecret(ctx, projectId, "paddle", "credential");
    // Paddle wants an answer within 5 seconds: a slow lookup leaves the email to the next pull.
    if (key) await addCustomerEmails(hosts(ctx).live, key, ops, 2_000);
  },
  explainError: (error) => explainProviderError("Paddle", error, FORBIDDEN),
  async verifyCredential(ctx, key) {
    if (key.startsWith("pdl_sdbx_")) {
      return { ok: false, status: 400, code: "sandbox_credential", message: "this key is for Paddle's sandbox; Bantico counts live payments, so create a live key (pdl_live_apikey_…)" };
    }
    const { live } = hosts(ctx);
    let root: Json | null;
    try {
      root = obj(obj(await get(live, key, "/"))?.data);
    } catch (error) {
      // An invalid, revoked or other-environment key answers 403 invalid_token, not 401.
      const code = error instanceof ProviderApiError ? str(obj(obj(error.body)?.error)?.code) : null;
      if (code === "invalid_token" || code === "authentication_malformed") return { ok: false, status: 400, code: "invalid_credential", message: "Paddle does not accept this key (revoked, mistyped, or a sandbox key)" };
      return { ok: false, ...explainProviderError("Paddle", error, FORBIDDEN) };
    }
    const caller = obj(root?.caller);
    if (!caller?.account) return { ok: false, status: 400, code: "invalid_credential", message: "Paddle does not accept this key (revoked, mistyped, or a sandbox key)" };
    if (str(obj(root?.api)?.environment) === "sandbox") {
      return { ok: false, status: 400, code: "sandbox_credential", message: "this key is for Paddle's sandbox; Bantico counts live payments, so create a live key" };
    }
    // Legacy keys (before May 2025) carry no permission list and may do everything.
    const permissions = Array.isArray(caller.permissions) ? (caller.permissions as unknown[]).map(String) : null;
    const missing = permissions ? REQUIRED_PERMISSIONS.filter((p) => !permissions.includes(p)) : [];
    if (missing.length) {
      return { ok: false, status: 400, code: "missing_permission", message: `the Paddle key lacks the permission ${missing.join(" and ")}; edit the key in Developer tools → Authentication and allow it` };
    }
    if (permissions && !permissions.includes("customer.read")) {
      return { ok: true, message: "connected: the key can read transactions and adjustments; allow customer.read too, or Paddle payments cannot be attributed by the customer's email" };
    }
    return { ok: true, message: "connected: the key can read transactions, adjustments and customers' emails" };
  },
  pull(ctx, projectId, shouldStop) {
    const { live } = hosts(ctx);
    return pullPass(ctx, projectId, "paddle", shouldStop, async function* (key, since) {
      const query = `status=completed&created_at[GTE]=${encodeURIComponent(new Date(since).toISOString())}&order_by=created_at[ASC]&per_page=${PER_PAGE}`;
      for await (const transactions of cursorPages(live, key, `/transactions?${query}`)) {
        const items = transactions.map((t) => ({ eventId: `transaction:${str(t.id)}`, type: "transaction (pulled)", payload: t, result: paddleTransactionToOps(t) }));
        yield { items: await withCustomerEmails(live, key, items), fraction: null };
      }
      // Adjustments have no date filter and come newest first: read until older than the pass.
      for await (const adjustments of cursorPages(live, key, `/adjustments?per_page=50`)) {
        const recent = adjustments.filter((a) => (time(a.updated_at) ?? time(a.created_at) ?? 0) >= since);
        yield {
          items: recent.map((a) => ({ eventId: `adjustment:${str(a.id)}:${str(a.status) ?? ""}`, type: "adjustment (pulled)", payload: a, result: paddleAdjustmentToOps(a, Date.now()) })),
          fraction: null,
        };
        if (recent.length < adjustments.length) return;
      }
    });
  },
};
