// /api/v1/fx/rates: manual exchange rates (SPEC §6) beside the ECB's latest fixing. Changing a
// manual rate converts the project's history again in the background.
import { Elysia } from "elysia";
import { z } from "zod";
import type { AppContext } from "../../context.ts";
import { resolveApiProject } from "../../api/auth.ts";
import type { ApiOperation } from "../../api/openapi.ts";
import { badRequest, notFound } from "../../http/errors.ts";
import { normalizeCurrency, unknownCurrencyMessage } from "../money.ts";
import { parseRate, type ManualRate } from "./convert.ts";
import { deleteManualRates, latestFixing, manualRates, putManualRate } from "./rates.ts";
import { conversionJobs, queueReconversion } from "./stored.ts";
import { readJob } from "../../db/storage/jobs.ts";

const rateBody = z.object({
  per: z.string().max(40).describe("The currency the rate is quoted in: 1 {currency} = rate units of per"),
  rate: z.union([z.number(), z.string().max(40)]).describe("A positive decimal, e.g. 0.2723"),
  from: z.string().max(40).optional().describe("YYYY-MM-DD: the rate applies to payments from this day on; default every day"),
});

const rateEntry = z.object({
  currency: z.string(),
  per: z.string(),
  rate: z.number(),
  source: z.enum(["manual", "ecb"]),
  from: z.string().nullable(),
});

export const fxOperations: ApiOperation[] = [
  { method: "get", path: "/fx/rates", summary: "Manual rates, and the latest ECB fixing (per EUR)", tag: "fx", response: z.object({ rates: z.array(rateEntry) }) },
  { method: "put", path: "/fx/rates/{currency}", summary: "Set a manual rate (history is converted again in the background)", tag: "fx", body: rateBody, response: rateEntry },
  { method: "delete", path: "/fx/rates/{currency}", summary: "Remove a currency's manual rates", tag: "fx", response: z.object({ deleted: z.number().int() }) },
];

/** A rate as a plain decimal string (no exponent), or null when it is not a positive number. */
export function rateText(value: number | string): string | null {
  let text = typeof value === "number" ? (Number.isFinite(value) && value > 0 ? value.toFixed(12).replace(/\.?0+$/, "") : "") : value.trim();
  if (/^\./.test(text)) text = `0${text}`;
  return parseRate(text) ? text : null;
}

function validCode(value: string): string {
  const code = normalizeCurrency(value);
  if (!code) throw badRequest(unknownCurrencyMessage(value), "invalid_currency");
  return code;
}

export type ManualRateErrors = Partial<Record<"currency" | "per" | "rate" | "from", string>>;

/** The manual rate a PUT body or the settings form describes, or each field's problem. */
export function validateManualRate(input: { currency: string; per: string; rate: number | string; from?: string }): { rate: ManualRate } | { errors: ManualRateErrors } {
  const errors: ManualRateErrors = {};
  const currency = normalizeCurrency(input.currency);
  const per = normalizeCurrency(input.per);
  if (!currency) errors.currency = unknownCurrencyMessage(input.currency);
  if (!per) errors.per = unknownCurrencyMessage(input.per);
  else if (per === currency) errors.per = "the quote currency must differ from the currency the rate is for";
  const rate = rateText(input.rate);
  if (!rate) errors.rate = "the rate must be a positive decimal number such as 0.2723 (at most 12 digits on each side of the point)";
  const from = input.from?.trim() || null;
  if (from !== null && (!/^\d{4}-\d{2}-\d{2}$/.test(from) || Number.isNaN(Date.parse(`${from}T00:00:00Z`)))) errors.from = "the start date must be a date, YYYY-MM-DD";
  if (Object.keys(errors).length > 0 || !currency || !per || !rate) return { errors };
  return { rate: { currency, per, rate, from } };
}

export async function listRates(ctx: AppContext, projectId: string): Promise<z.infer<typeof rateEntry>[]> {
  const [stored, fixing] = await readJob(ctx.storage, function* (tx) {
    return [yield* manualRates(tx, projectId), yield* latestFixing(tx)] as const;
  });
  const manual = stored.map((m) => ({ currency: m.currency, per: m.per, rate: Number(m.rate), source: "manual" as const, from: m.from }));
  const ecb = fixing
    ? Object.entries(fixing.perEur).map(([currency, rate]) => ({ currency: "EUR", per: currency, rate: Number(rate), source: "ecb" as const, from: fixing.date }))
    : [];
  return [...manual, ...ecb];
}

/** Stores or removes manual rates and queues the project's history for conversion. */
export async function changeManualRates(ctx: AppContext, projectId: string, change: { put: ManualRate } | { delete: string }): Promise<number> {
  const changed = await ctx.writes.job(function* (tx) {
    let n = 1;
    if ("put" in change) yield* putManualRate(tx, projectId, change.put, ctx.now());
    else n = yield* deleteManualRates(tx, projectId, change.delete);
    if (n > 0) yield* queueReconversion(tx, projectId, ctx.now());
    return n;
  });
  if (changed > 0) conversionJobs(ctx)?.kick();
  return changed;
}

export function fxApi(ctx: AppContext) {
  return new Elysia({ prefix: "/api/v1" })
    .resolve(resolveApiProject(ctx))
    .get("/fx/rates", async ({ project }) => ({ rates: await listRates(ctx, project.id) }))
    .put(
      "/fx/rates/:currency",
      async ({ project, params, body }) => {
        const result = validateManualRate({ ...body, currency: params.currency });
        if ("errors" in result) {
          const [field, message] = Object.entries(result.errors)[0]!;
          throw badRequest(`${field}: ${message}`, field === "currency" || field === "per" ? "invalid_currency" : "invalid_request");
        }
        const rate = result.rate;
        await changeManualRates(ctx, project.id, { put: rate });
        return { currency: rate.currency, per: rate.per, rate: Number(rate.rate), source: "manual" as const, from: rate.from };
      },
      { body: rateBody },
    )
    .delete("/fx/rates/:currency", async ({ project, params }) => {
      const code = validCode(params.currency);
      const deleted = await changeManualRates(ctx, project.id, { delete: code });
      if (deleted === 0) throw notFound(`there is no manual rate for ${code}`);
      return { deleted };
    });
}
