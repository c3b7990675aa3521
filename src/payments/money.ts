// Money in integer minor units: ISO 4217 active codes and each one's exponent, from one explicit
// table (not Intl, whose exponents differ from the providers'), and the bound on one payment.

/**
 * Active ISO 4217 codes (list one, 2026) with the digits after the decimal point in the providers'
 * minor units. Where Stripe's API departs from ISO, Stripe wins, as every provider amount is in its
 * units: ISK 2 (ISO 0) and MGA 0 (ISO 2). Codes without minor units (XAU, XDR, XTS, …) and
 * withdrawn ones (HRK, BGN, SLL, ZWL, ANG, CUC) are absent.
 */
const MINOR_UNITS: Readonly<Record<string, number>> = {
  AED: 2, AFN: 2, ALL: 2, AMD: 2, AOA: 2, ARS: 2, AUD: 2, AWG: 2, AZN: 2, BAM: 2, BBD: 2, BDT: 2, BHD: 3, BIF: 0, BMD: 2,
  BND: 2, BOB: 2, BOV: 2, BRL: 2, BSD: 2, BTN: 2, BWP: 2, BYN: 2, BZD: 2, CAD: 2, CDF: 2, CHE: 2, CHF: 2, CHW: 2, CLF: 4,
  CLP: 0, CNY: 2, COP: 2, COU: 2, CRC: 2, CUP: 2, CVE: 2, CZK: 2, DJF: 0, DKK: 2, DOP: 2, DZD: 2, EGP: 2, ERN: 2, ETB: 2,
  EUR: 2, FJD: 2, FKP: 2, GBP: 2, GEL: 2, GHS: 2, GIP: 2, GMD: 2, GNF: 0, GTQ: 2, GYD: 2, HKD: 2, HNL: 2, HTG: 2, HUF: 2,
  IDR: 2, ILS: 2, INR: 2, IQD: 3, IRR: 2, ISK: 2, JMD: 2, JOD: 3, JPY: 0, KES: 2, KGS: 2, KHR: 2, KMF: 0, KPW: 2, KRW: 0,
  KWD: 3, KYD: 2, KZT: 2, LAK: 2, LBP: 2, LKR: 2, LRD: 2, LSL: 2, LYD: 3, MAD: 2, MDL: 2, MGA: 0, MKD: 2, MMK: 2, MNT: 2,
  MOP: 2, MRU: 2, MUR: 2, MVR: 2, MWK: 2, MXN: 2, MXV: 2, MYR: 2, MZN: 2, NAD: 2, NGN: 2, NIO: 2, NOK: 2, NPR: 2, NZD: 2,
  OMR: 3, PAB: 2, PEN: 2, PGK: 2, PHP: 2, PKR: 2, PLN: 2, PYG: 0, QAR: 2, RON: 2, RSD: 2, RUB: 2, RWF: 0, SAR: 2, SBD: 2,
  SCR: 2, SDG: 2, SEK: 2, SGD: 2, SHP: 2, SLE: 2, SOS: 2, SRD: 2, SSP: 2, STN: 2, SVC: 2, SYP: 2, SZL: 2, THB: 2, TJS: 2,
  TMT: 2, TND: 3, TOP: 2, TRY: 2, TTD: 2, TWD: 2, TZS: 2, UAH: 2, UGX: 0, USD: 2, USN: 2, UYI: 0, UYU: 2, UYW: 4, UZS: 2,
  VED: 2, VES: 2, VND: 0, VUV: 0, WST: 2, XAF: 0, XCD: 2, XCG: 2, XOF: 0, XPF: 0, YER: 2, ZAR: 2, ZMW: 2, ZWG: 2,
};

export const CURRENCY_CODES: readonly string[] = Object.keys(MINOR_UNITS);

/** The largest |amount| one payment may carry, in minor units: sums of many stay exact (below 2^53). */
export const MAX_PAYMENT_MINOR_UNITS = 1_000_000_000_000;

/** Digits after the decimal point in the providers' minor units. Rows stored before codes were checked may hold any code: 2 for those. */
export function currencyExponent(currency: string): number {
  return MINOR_UNITS[currency.toUpperCase()] ?? 2;
}

/** The upper-case active ISO 4217 code, or null for anything else ("ZZZ", "dollars", a withdrawn code). */
export function normalizeCurrency(currency: string): string | null {
  const code = currency.trim().toUpperCase();
  return Object.hasOwn(MINOR_UNITS, code) ? code : null;
}

/** The message a refused currency code gets, naming it. */
export function unknownCurrencyMessage(currency: string): string {
  return `"${currency.slice(0, 20)}" is not an active ISO 4217 currency code (such as USD, EUR or JPY)`;
}

/** Why an amount cannot be recorded, or null: minor units must be whole and at most MAX_PAYMENT_MINOR_UNITS. */
export function amountProblem(amount: number, field = "amount"): string | null {
  if (!Number.isSafeInteger(amount)) return `${field} must be a whole number of minor units`;
  if (Math.abs(amount) > MAX_PAYMENT_MINOR_UNITS) return `${field} ${amount} is beyond the limit of ${MAX_PAYMENT_MINOR_UNITS} minor units for one payment`;
  return null;
}

/** Minor units as a decimal string, exact (no floating point): 123456 KWD → "123.456". */
export function formatMinorUnits(amount: number, currency: string): string {
  const exponent = currencyExponent(currency);
  const sign = amount < 0 ? "-" : "";
  const digits = String(Math.abs(amount)).padStart(exponent + 1, "0");
  return exponent === 0 ? `${sign}${digits}` : `${sign}${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

const moneyFormats = new Map<string, Intl.NumberFormat | null>();

/** "¥1,500", "KWD 12.345": for explanations and pages. Formatters are kept per currency (reports format thousands). */
export function formatMoney(amount: number, currency: string): string {
  let format = moneyFormats.get(currency);
  if (format === undefined) {
    const digits = currencyExponent(currency);
    try {
      format = new Intl.NumberFormat("en", { style: "currency", currency, minimumFractionDigits: digits, maximumFractionDigits: digits });
    } catch {
      format = null;
    }
    moneyFormats.set(currency, format);
  }
  const exact = formatMinorUnits(amount, currency);
  return format ? format.format(Number(exact)) : `${exact} ${currency}`;
}

/** Why a payment an adapter produced cannot be recorded (a code or amount no ledger sum may hold), or null. */
export function paymentMoneyProblem(p: { currency: string; amount: number; tax: number | null; cumulativeRefund: { total: number; totalTax: number | null } | null }): string | null {
  if (normalizeCurrency(p.currency) !== p.currency) return unknownCurrencyMessage(p.currency);
  return (
    amountProblem(p.amount) ??
    amountProblem(p.tax ?? 0, "tax") ??
    (p.cumulativeRefund ? (amountProblem(p.cumulativeRefund.total, "refunded amount") ?? amountProblem(p.cumulativeRefund.totalTax ?? 0, "refunded tax")) : null)
  );
}
