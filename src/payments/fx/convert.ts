// A payment's value in the reporting currency (SPEC §5), as a pure function of the payment and the
// rates known: exact rational arithmetic on BigInt, one rounding (half to even) at the end.
import { currencyExponent } from "../money.ts";

export const RATE_SOURCES = ["provider", "same", "ecb", "manual", "none"] as const;
export type RateSource = (typeof RATE_SOURCES)[number];

/** A rate as an exact fraction: units of one currency per whole unit of another. */
export interface Ratio {
  n: bigint;
  d: bigint;
}

export interface Reporting {
  currency: string;
  /** The payment's amount (tax included) in minor units of `currency`; null without a rate. */
  amount: number | null;
  /** The payment's net (what revenue counts) in minor units of `currency`; null without a rate. */
  net: number | null;
  /** Units of `currency` for one whole unit of the payment's currency (display precision); null without a rate. */
  rate: number | null;
  rateSource: RateSource;
  /** The fixing used (YYYY-MM-DD); null without a rate. */
  rateDate: string | null;
}

/** An ECB fixing: units of each currency per 1 EUR (EUR itself absent), as the feed's decimal strings. */
export interface EcbFixing {
  date: string;
  perEur: Readonly<Record<string, string>>;
}

/** A rate set by hand: 1 `currency` = `rate` units of `per`, from day `from` on (null: every day). */
export interface ManualRate {
  currency: string;
  per: string;
  rate: string;
  from: string | null;
}

export interface ConversionInput {
  amount: number;
  net: number;
  currency: string;
  /** The day whose rate applies, in the project's timezone: the payment's, or for a refund or dispute its sale's. */
  day: string;
  /**
   * What the provider credited for this money in another currency: `amount` of `currency` for `of`
   * minor units of the payment's currency (a refund passes its sale's, so it converts at the sale's rate).
   */
  settlement: { currency: string; amount: number; of: number } | null;
}

export interface RateBook {
  /** The fixing in force on the input's day (that day's, or the last earlier one); null when not published yet. */
  ecb: EcbFixing | null;
  manual: readonly ManualRate[];
}

/** "1.0953" → 10953/10000; null for anything that is not a positive decimal number. */
export function parseRate(text: string): Ratio | null {
  const match = /^(\d{1,12})(?:\.(\d{1,12}))?$/.exec(text.trim());
  if (!match) return null;
  const fraction = match[2] ?? "";
  const n = BigInt(match[1]! + fraction);
  if (n === 0n) return null;
  return { n, d: 10n ** BigInt(fraction.length) };
}

const ONE: Ratio = { n: 1n, d: 1n };
const times = (a: Ratio, b: Ratio): Ratio => ({ n: a.n * b.n, d: a.d * b.d });
const inverse = (a: Ratio): Ratio => ({ n: a.d, d: a.n });

/** n/d rounded to the nearest integer, ties to the even one. */
export function roundHalfEven(n: bigint, d: bigint): bigint {
  if (d < 0n) return roundHalfEven(-n, -d);
  const q = n / d;
  const r = n % d;
  const twice = 2n * (r < 0n ? -r : r);
  if (twice < d || (twice === d && q % 2n === 0n)) return q;
  return n < 0n ? q - 1n : q + 1n;
}

/** Minor units of `from` × rate (per whole unit) → minor units of `to`, rounded once. */
export function convertMinorUnits(amount: number, rate: Ratio, from: string, to: string): number {
  return applyScaled(amount, scaledRate(rate, from, to));
}

/** A rate per whole unit with the currencies' exponents folded in: minor units in × n / d = minor units out. */
interface ScaledRate {
  n: bigint;
  d: bigint;
  /** The same as numbers when both are exact in a double, for the fast path. */
  nNumber: number | null;
  dNumber: number | null;
}

function scaledRate(rate: Ratio, from: string, to: string): ScaledRate {
  const shift = currencyExponent(to) - currencyExponent(from);
  const n = rate.n * 10n ** BigInt(Math.max(shift, 0));
  const d = rate.d * 10n ** BigInt(Math.max(-shift, 0));
  const exact = (v: bigint) => (v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : null);
  return { n, d, nNumber: exact(n), dNumber: exact(d) };
}

/**
 * amount × n / d (d > 0) rounded half to even: in doubles while every step is an exact integer
 * (history re-conversion and MRR run this hundreds of thousands of times), else in BigInt.
 */
export function multiplyHalfEven(amount: number, n: number, d: number): number {
  const product = amount * n;
  if (!Number.isSafeInteger(product) || !Number.isSafeInteger(d)) return Number(roundHalfEven(BigInt(amount) * BigInt(n), BigInt(d)));
  const r = product % d;
  const q = (product - r) / d;
  const twice = 2 * Math.abs(r);
  if (twice < d || (twice === d && q % 2 === 0)) return q;
  return product < 0 ? q - 1 : q + 1;
}

function applyScaled(amount: number, rate: ScaledRate): number {
  const { nNumber: n, dNumber: d } = rate;
  if (n !== null && d !== null && d > 0) return multiplyHalfEven(amount, n, d);
  return Number(roundHalfEven(BigInt(amount) * rate.n, rate.d));
}

function ecbRate(fixing: EcbFixing | null, from: string, to: string): Ratio | null {
  if (from === to) return ONE;
  if (!fixing) return null;
  const perEur = (code: string) => (code === "EUR" ? ONE : parseRate(fixing.perEur[code] ?? ""));
  const a = perEur(from);
  const b = perEur(to);
  return a && b ? times(b, inverse(a)) : null;
}

/** The manual rate of `currency` in force on `day`: the one with the latest `from` not after it. */
function manualRate(manual: readonly ManualRate[], currency: string, day: string): { per: string; rate: Ratio } | null {
  let best: ManualRate | null = null;
  for (const m of manual) {
    if (m.currency !== currency || (m.from !== null && m.from > day)) continue;
    if (!best || (best.from ?? "") < (m.from ?? "")) best = m;
  }
  const rate = best ? parseRate(best.rate) : null;
  return best && rate ? { per: best.per, rate } : null;
}

/** The rate a payment converts at, before its amounts: what `convertPayment` applies, and what a caller may reuse for payments of the same currency and day. */
export interface AppliedRate {
  rate: Ratio;
  rateSource: Exclude<RateSource, "none">;
  rateDate: string;
}

/** What converting does not depend on the amounts for (a settlement does: it is its own rate). */
export type RateInput = Pick<ConversionInput, "currency" | "day" | "settlement">;

/**
 * The rate of a payment into `reportingCurrency`, by the first rule that applies (SPEC §5): the same
 * currency; the provider's own conversion into it; the ECB rate crossed through EUR; a manual rate
 * (crossed through its `per` currency); else null. Never a guess.
 */
export function conversionRate(input: RateInput, reportingCurrency: string, book: RateBook): AppliedRate | null {
  const to = reportingCurrency;
  const from = input.currency;
  const at = (rate: Ratio, rateSource: AppliedRate["rateSource"], rateDate: string): AppliedRate => ({ rate, rateSource, rateDate });
  if (from === to) return at(ONE, "same", input.day);
  const s = input.settlement;
  if (s && s.currency === to && s.of !== 0) {
    // The provider's figure per minor unit, as a rate per whole unit: scale by the exponents back.
    const perMinor: Ratio = { n: BigInt(s.amount), d: BigInt(s.of) };
    const shift = currencyExponent(from) - currencyExponent(to);
    const rate = times(perMinor, shift >= 0 ? { n: 10n ** BigInt(shift), d: 1n } : { n: 1n, d: 10n ** BigInt(-shift) });
    return at(rate.d < 0n ? { n: -rate.n, d: -rate.d } : rate, "provider", input.day);
  }
  const ecb = ecbRate(book.ecb, from, to);
  if (ecb) return at(ecb, "ecb", book.ecb!.date);
  // A manual rate of the payment's currency, then one of the reporting currency, each crossed as needed.
  const own = manualRate(book.manual, from, input.day);
  if (own) {
    const onward = own.per === to ? ONE : (ecbRate(book.ecb, own.per, to) ?? inverseManual(book.manual, to, own.per, input.day));
    if (onward) return at(times(own.rate, onward), "manual", own.per === to || !ecbRate(book.ecb, own.per, to) ? input.day : book.ecb!.date);
  }
  const target = manualRate(book.manual, to, input.day);
  if (target) {
    const toPer = ecbRate(book.ecb, from, target.per);
    if (toPer) return at(times(toPer, inverse(target.rate)), "manual", from === target.per ? input.day : book.ecb!.date);
  }
  return null;
}

/** Converts amounts of one currency at one rate: the rate's arithmetic is prepared once for every payment it serves. */
export function rateApplier(applied: AppliedRate | null, from: string, to: string): (amount: number, net: number) => Reporting {
  if (!applied) return () => ({ currency: to, amount: null, net: null, rate: null, rateSource: "none", rateDate: null });
  const scaled = scaledRate(applied.rate, from, to);
  const rate = Number((Number(applied.rate.n) / Number(applied.rate.d)).toPrecision(10));
  return (amount, net) => ({ currency: to, amount: applyScaled(amount, scaled), net: applyScaled(net, scaled), rate, rateSource: applied.rateSource, rateDate: applied.rateDate });
}

/** The payment's value in `reportingCurrency` (SPEC §5), with null amounts when no rate applies. */
export function convertPayment(input: ConversionInput, reportingCurrency: string, book: RateBook): Reporting {
  return rateApplier(conversionRate(input, reportingCurrency, book), input.currency, reportingCurrency)(input.amount, input.net);
}

/** per → currency through a manual rate of `currency` quoted in `per`. */
function inverseManual(manual: readonly ManualRate[], currency: string, per: string, day: string): Ratio | null {
  const m = manualRate(manual, currency, day);
  return m && m.per === per ? inverse(m.rate) : null;
}
