// Money in integer minor units: the exponent of each currency, from an explicit table (not Intl).
const ZERO_DECIMAL = new Set(["BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"]);
const THREE_DECIMAL = new Set(["BHD", "JOD", "KWD", "OMR", "TND"]);

/** Digits after the decimal point in the providers' minor units (ISK is two-decimal in Stripe's API). */
export function currencyExponent(currency: string): number {
  const code = currency.toUpperCase();
  if (ZERO_DECIMAL.has(code)) return 0;
  if (THREE_DECIMAL.has(code)) return 3;
  return 2;
}

export function normalizeCurrency(currency: string): string | null {
  const code = currency.trim().toUpperCase();
  return /^[A-Z]{3}$/.test(code) ? code : null;
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
