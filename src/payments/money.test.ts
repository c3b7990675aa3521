// Currency exponents come from an explicit table, not from Intl.
import { expect, test } from "bun:test";
import { currencyExponent, formatMinorUnits, formatMoney } from "./money.ts";

test("zero-, two- and three-decimal currencies are formatted exactly", () => {
  expect(currencyExponent("jpy")).toBe(0);
  expect(currencyExponent("KWD")).toBe(3);
  expect(currencyExponent("ISK")).toBe(2);
  expect(formatMinorUnits(1500, "JPY")).toBe("1500");
  expect(formatMinorUnits(12345, "KWD")).toBe("12.345");
  expect(formatMinorUnits(-5, "USD")).toBe("-0.05");
  expect(formatMoney(1500, "JPY")).toBe("¥1,500");
  expect(formatMoney(12345, "KWD")).toContain("12.345");
});
