// Currency codes and exponents come from one explicit table, not from Intl.
import { expect, test } from "bun:test";
import { currencyExponent, formatMinorUnits, formatMoney, normalizeCurrency, paymentMoneyProblem } from "./money.ts";

test("zero-, two- and three-decimal currencies are formatted exactly", () => {
  expect(currencyExponent("jpy")).toBe(0);
  expect(currencyExponent("KWD")).toBe(3);
  expect(currencyExponent("ISK")).toBe(2);
  expect(currencyExponent("CLF")).toBe(4);
  expect(formatMinorUnits(1500, "JPY")).toBe("1500");
  expect(formatMinorUnits(12345, "KWD")).toBe("12.345");
  expect(formatMinorUnits(-5, "USD")).toBe("-0.05");
  expect(formatMoney(1500, "JPY")).toBe("¥1,500");
  expect(formatMoney(12345, "KWD")).toContain("12.345");
});

test("only active ISO 4217 codes are currencies: made-up, withdrawn and metal codes are not", () => {
  expect(normalizeCurrency(" usd ")).toBe("USD");
  expect(normalizeCurrency("aed")).toBe("AED");
  for (const code of ["ZZZ", "XAU", "XTS", "HRK", "BGN", "dollars", "", "US"]) expect(normalizeCurrency(code)).toBeNull();
});

test("a payment beyond 10^12 minor units, or in an unknown code, cannot reach the ledger", () => {
  const ok = { currency: "USD", amount: 1_000_000_000_000, tax: 0, cumulativeRefund: null };
  expect(paymentMoneyProblem(ok)).toBeNull();
  expect(paymentMoneyProblem({ ...ok, amount: 2 ** 53 - 1 })).toContain("beyond the limit");
  expect(paymentMoneyProblem({ ...ok, amount: -1_000_000_000_001 })).toContain("beyond the limit");
  expect(paymentMoneyProblem({ ...ok, cumulativeRefund: { total: 2 ** 60, totalTax: null } })).toContain("refunded amount");
  expect(paymentMoneyProblem({ ...ok, currency: "ZZZ" })).toContain('"ZZZ"');
});
