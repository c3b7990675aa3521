// Money for people: minor units shown with their currency's own decimals (JPY 0, KWD 3), one currency at a time.

// Stripe's and ISO 4217's exponents; ISK is two-decimal in Stripe's API although Intl says zero.
const ZERO_DECIMAL = new Set(["BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"]);
const THREE_DECIMAL = new Set(["BHD", "JOD", "KWD", "OMR", "TND"]);

export function currencyDecimals(currency: string): number {
  const code = currency.toUpperCase();
  return ZERO_DECIMAL.has(code) ? 0 : THREE_DECIMAL.has(code) ? 3 : 2;
}

/** 123456 "USD" → "$1,234.56"; 1500 "JPY" → "¥1,500"; -250 "EUR" → "-€2.50". */
export function formatMoney(minor: number, currency: string): string {
  const code = currency.toUpperCase();
  const decimals = currencyDecimals(code);
  const major = minor / 10 ** decimals;
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency: code, minimumFractionDigits: decimals, maximumFractionDigits: decimals }).format(major);
  } catch {
    // An unknown code from a provider: still readable, never a 500.
    return `${major.toFixed(decimals)} ${code}`;
  }
}

/** Amounts in one currency as a major-unit number, for charts and CSV. */
export function toMajor(minor: number, currency: string): number {
  return minor / 10 ** currencyDecimals(currency);
}
