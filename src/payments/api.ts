// The API adapter: `POST /api/v1/payments` bodies (a payment from any other provider) into the
// one internal payment shape.
import { z } from "zod";
import { badRequest } from "../http/errors.ts";
import { flattenMetadata, normalizeEmail } from "./metadata.ts";
import { amountProblem, normalizeCurrency, unknownCurrencyMessage } from "./money.ts";
import { emptyPayment, PAYMENT_KINDS, SUBSCRIPTION_INTERVALS, type IncomingPayment } from "./types.ts";

export const apiPaymentBody = z.object({
  transactionId: z.string().trim().min(1).max(200).describe("Your provider's id for this payment; sending it again changes nothing"),
  amount: z.number().int().describe("Integer minor units (cents; yen for JPY; fils for KWD). Refunds and disputes may be positive or negative"),
  currency: z.string().max(40).describe("An active ISO 4217 code such as USD"),
  kind: z.enum(PAYMENT_KINDS).optional().describe("Default sale"),
  email: z.string().max(320).optional().describe("The customer's email, matched to identified profiles"),
  metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional().describe("linkId, campaignId, source, medium, content, leadId, visitorId, sessionId"),
  timestamp: z.union([z.string(), z.number()]).optional().describe("When it was paid: ISO 8601 or unix milliseconds; default now"),
  tax: z.number().int().min(0).optional().describe("Tax included in amount, minor units; revenue is counted net of it"),
  subscription: z
    .object({
      id: z.string().trim().min(1).max(200).describe("Your id for the subscription"),
      interval: z.enum(SUBSCRIPTION_INTERVALS),
      intervalCount: z.number().int().min(1).max(1000).optional().describe("Default 1: a period is this many calendar intervals"),
    })
    .optional()
    .describe("Makes it a subscription's payment: the first one a sale, later ones renewals (unless kind says otherwise)"),
});
export type ApiPaymentBody = z.infer<typeof apiPaymentBody>;

const FUTURE_SLACK_MS = 86_400_000;

/** `renewal`: the subscription named has been paid before, so an untyped payment of it is a renewal. */
export function apiPaymentToIncoming(body: ApiPaymentBody, now: number, renewal = false): IncomingPayment {
  const kind = body.kind ?? (renewal ? "renewal" : "sale");
  const currency = normalizeCurrency(body.currency);
  if (!currency) throw badRequest(unknownCurrencyMessage(body.currency), "invalid_currency");
  for (const [field, value] of [["amount", body.amount], ["tax", body.tax ?? 0]] as const) {
    const problem = amountProblem(value, field);
    if (problem) throw badRequest(problem, "amount_out_of_range");
  }
  if ((kind === "sale" || kind === "renewal") && body.amount < 0) throw badRequest(`a ${kind} cannot have a negative amount; send kind "refund" instead`);
  let email: string | null = null;
  if (body.email !== undefined && body.email.trim() !== "") {
    email = normalizeEmail(body.email);
    if (!email) throw badRequest("email is not an email address");
  }
  let occurredAt = now;
  if (body.timestamp !== undefined) {
    occurredAt = typeof body.timestamp === "number" ? body.timestamp : /^\d+$/.test(body.timestamp) ? Number(body.timestamp) : Date.parse(body.timestamp);
    if (!Number.isFinite(occurredAt) || occurredAt <= 0) throw badRequest("timestamp must be ISO 8601 or unix milliseconds");
    if (occurredAt > now + FUTURE_SLACK_MS) throw badRequest("timestamp is in the future");
  }
  const negative = kind === "refund" || kind === "dispute";
  const amount = negative ? -Math.abs(body.amount) : body.amount;
  const tax = body.tax === undefined ? null : negative ? -body.tax : body.tax;
  if (tax !== null && Math.abs(tax) > Math.abs(amount)) throw badRequest("tax cannot exceed amount");
  return {
    ...emptyPayment("api"),
    kind,
    key: `api:${body.transactionId}`,
    orderId: body.transactionId,
    email,
    amount,
    tax: tax ?? (negative ? null : 0),
    currency,
    metadata: flattenMetadata(body.metadata ?? {}),
    description: `API transaction ${body.transactionId}`,
    occurredAt,
    subscriptionId: body.subscription?.id ?? null,
    subscription: body.subscription ? { interval: body.subscription.interval, intervalCount: body.subscription.intervalCount ?? 1 } : null,
    parent: body.subscription && kind !== "sale" ? { subscriptionId: body.subscription.id } : null,
  };
}
