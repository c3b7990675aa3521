// The webhook signature schemes of the providers without a usable SDK helper on a server:
// plain HMAC-SHA256 of the body (Lemon Squeezy, Creem), Paddle's ts:body with every h1 checked,
// and Standard Webhooks (Dodo). Comparisons are constant-time.
import { createHmac, timingSafeEqual } from "node:crypto";

export type SignatureCheck = "ok" | "missing" | "stale" | "invalid";

/** Deliveries older or newer than this are refused: a replay, or a clock far off. */
export const SIGNATURE_TOLERANCE_S = 300;

export function hmacSha256(key: string | Buffer, content: string, encoding: "hex" | "base64"): string {
  return createHmac("sha256", key).update(content).digest(encoding);
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function fresh(timestampSeconds: number, nowMs: number): boolean {
  return Number.isFinite(timestampSeconds) && Math.abs(nowMs / 1000 - timestampSeconds) <= SIGNATURE_TOLERANCE_S;
}

/** Lemon Squeezy's X-Signature and Creem's creem-signature: lower-case hex HMAC of the raw body. */
export function checkBodyHmac(raw: string, signature: string | null, secret: string): SignatureCheck {
  if (!signature) return "missing";
  return same(hmacSha256(secret, raw, "hex"), signature.trim().toLowerCase()) ? "ok" : "invalid";
}

/** Paddle-Signature `ts=…;h1=…[;h1=…]`: any h1 may match (secret rotation), within the tolerance (the SDK allows 5 s). */
export function checkPaddleSignature(raw: string, header: string | null, secret: string, nowMs: number): SignatureCheck {
  if (!header) return "missing";
  const parts = header.split(";").map((part) => part.trim().split("="));
  const ts = parts.find(([k]) => k === "ts")?.[1];
  const signatures = parts.filter(([k]) => k === "h1").map(([, v]) => (v ?? "").toLowerCase());
  if (!ts || signatures.length === 0) return "missing";
  const expected = hmacSha256(secret, `${ts}:${raw}`, "hex");
  if (!signatures.some((signature) => same(expected, signature))) return "invalid";
  return fresh(Number(ts), nowMs) ? "ok" : "stale";
}

/** Standard Webhooks: `v1,<base64 HMAC of id.timestamp.body>` (space-separated during rotation), key = base64 after whsec_. */
export function checkStandardWebhook(raw: string, headers: Headers, secret: string, nowMs: number): SignatureCheck {
  const id = headers.get("webhook-id");
  const timestamp = headers.get("webhook-timestamp");
  const header = headers.get("webhook-signature");
  if (!id || !timestamp || !header) return "missing";
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = hmacSha256(key, `${id}.${timestamp}.${raw}`, "base64");
  const matches = header.split(" ").some((entry) => {
    const [version, signature] = entry.split(",");
    return version === "v1" && signature !== undefined && same(expected, signature);
  });
  if (!matches) return "invalid";
  return fresh(Number(timestamp), nowMs) ? "ok" : "stale";
}
