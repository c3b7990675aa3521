import { expect, test } from "bun:test";
import { currencyDecimals, formatMoney as format, toMajor } from "./money.ts";

// Intl separates a currency code from the number with a no-break space; compare with plain spaces.
const formatMoney = (minor: number, currency: string) => format(minor, currency).replaceAll("\u00a0", " ");

test("amounts are shown with their currency's own decimals", () => {
  expect(formatMoney(123456, "USD")).toBe("$1,234.56");
  expect(formatMoney(1500, "JPY")).toBe("¥1,500");
  expect(formatMoney(12345, "KWD")).toBe("KWD 12.345");
  expect(formatMoney(-250, "eur")).toBe("-€2.50");
  expect(formatMoney(1999, "ISK")).toBe("ISK 19.99");
});

test("an unknown currency code is still readable", () => {
  expect(formatMoney(1000, "ZZ1")).toBe("10.00 ZZ1");
});

test("decimals come from an explicit table, not Intl", () => {
  expect(currencyDecimals("KRW")).toBe(0);
  expect(currencyDecimals("BHD")).toBe(3);
  expect(currencyDecimals("ISK")).toBe(2);
  expect(toMajor(12345, "KWD")).toBe(12.345);
});
