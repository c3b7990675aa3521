// The providers Bantico reads with plain fetch and hand-checked signatures: what each one must
// supply so one webhook route, one connect and one scheduler serve them all.
import { createHash } from "node:crypto";
import type { AppContext } from "../context.ts";
import type { PullOutcome } from "./pull.ts";
import type { SignatureCheck } from "./signatures.ts";
import type { Verdict } from "./stripe/client.ts";
import type { AdapterResult, LedgerOp } from "./types.ts";

export const NATIVE_PROVIDER_IDS = ["dodo", "lemonsqueezy", "paddle", "creem"] as const;
export type NativeProviderId = (typeof NATIVE_PROVIDER_IDS)[number];

/** A payload that cannot be what the provider documents: answered 400, nothing stored. */
export class PayloadError extends Error {}

export interface NativeProvider {
  id: NativeProviderId;
  name: string;
  /** The header(s) the signature comes in, for the message when they are missing. */
  signatureHeaders: string;
  checkSignature(raw: string, headers: Headers, secret: string, nowMs: number): SignatureCheck;
  /** The id that dedupes deliveries (the provider's event id, or the body's hash where it has none), and the type. */
  identify(event: Record<string, unknown>, raw: string, headers: Headers): { eventId: string; type: string };
  adapt(event: Record<string, unknown>): AdapterResult;
  /** For providers whose events name the customer but not their email (Paddle): fills it in from the API when a key is connected. */
  addCustomerEmails?(ctx: AppContext, projectId: string, ops: LedgerOp[]): Promise<void>;
  verifyCredential(ctx: AppContext, credential: string): Promise<Verdict>;
  pull(ctx: AppContext, projectId: string, shouldStop: () => boolean): Promise<PullOutcome>;
  explainError(error: unknown): { status: number; code: string; message: string };
}

/** Where a provider sends no event id (Lemon Squeezy), a delivery is known by its body: a retry repeats it exactly. */
export function bodyEventId(raw: string): string {
  return `body:${createHash("sha256").update(raw).digest("hex")}`;
}

/** Narrowing helpers for untyped JSON payloads. */
export type Json = Record<string, unknown>;
export const obj = (value: unknown): Json | null => (value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Json) : null);
export const str = (value: unknown): string | null => (typeof value === "string" && value !== "" ? value : typeof value === "number" ? String(value) : null);
/** Integers, also when sent as strings (Paddle's amounts, Dodo's dispute amount). */
export const int = (value: unknown): number | null => {
  const n = typeof value === "string" && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  return typeof n === "number" && Number.isSafeInteger(n) ? n : null;
};
/** ISO strings and epoch milliseconds alike. */
export const time = (value: unknown): number | null => {
  const t = typeof value === "number" ? value : typeof value === "string" ? Date.parse(value) : NaN;
  return Number.isFinite(t) && t > 0 ? t : null;
};
