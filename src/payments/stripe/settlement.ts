// What Stripe credited for a payment in the account's balance currency: the charge's balance
// transaction (SPEC §5 rateSource "provider"). Read from the payload when it is expanded there,
// else asked of Stripe's API when a key is connected; without either, the ECB rate applies.
import type { AppContext } from "../../context.ts";
import { integrationSecret } from "../integrations.ts";
import { getProject } from "../../projects/service.ts";
import type { IncomingPayment, LedgerOp } from "../types.ts";
import { stripeClient } from "./client.ts";
import { settlementOf } from "./adapter.ts";

/**
 * Adds the settlement to Stripe sales and renewals in another currency than the project's, asking
 * Stripe for the balance transaction (needs a key with Charges and Balance read). A failure leaves
 * the payment as it was: its conversion then uses the ECB rate, never a guess.
 */
export async function withStripeSettlements(ctx: AppContext, projectId: string, ops: LedgerOp[]): Promise<LedgerOp[]> {
  const reporting = (await getProject(ctx.storage, projectId))?.currency;
  const wanted = (p: IncomingPayment) =>
    p.provider === "stripe" && (p.kind === "sale" || p.kind === "renewal") && !p.settlement && p.currency !== reporting && (p.paymentIntentId || p.chargeId);
  if (!ops.some((op) => op.op === "payment" && wanted(op.payment))) return ops;
  const apiKey = await integrationSecret(ctx, projectId, "stripe", "credential");
  if (!apiKey) return ops;
  const stripe = stripeClient(ctx, apiKey);
  return Promise.all(
    ops.map(async (op) => {
      if (op.op !== "payment" || !wanted(op.payment)) return op;
      const p = op.payment;
      try {
        const source = p.paymentIntentId
          ? await stripe.paymentIntents.retrieve(p.paymentIntentId, { expand: ["latest_charge.balance_transaction"] })
          : await stripe.charges.retrieve(p.chargeId!, { expand: ["balance_transaction"] });
        const settlement = settlementOf(source);
        return settlement ? { ...op, payment: { ...p, settlement } } : op;
      } catch {
        return op;
      }
    }),
  );
}
