// The conversion rules of SPEC §5, hand-computed: rate per whole unit, exponents, one rounding half to even, cross via EUR.
import { expect, test } from "bun:test";
import { convertPayment, roundHalfEven, type RateBook } from "./convert.ts";
import { parseEcbXml, isTargetClosingDay, lastPublishedWorkingDay } from "./ecb.ts";

const fixing = { date: "2026-12-04", perEur: { USD: "1.0800", JPY: "162.50", KWD: "0.3300" } };
const book: RateBook = { ecb: fixing, manual: [] };
const payment = (amount: number, currency: string, extra = {}) => ({ amount, net: amount, currency, day: "2026-12-04", settlement: null, ...extra });

test("ties round to the even neighbour, once", () => {
  expect([roundHalfEven(5n, 2n), roundHalfEven(7n, 2n), roundHalfEven(-5n, 2n), roundHalfEven(-7n, 2n), roundHalfEven(11n, 4n)]).toEqual([2n, 4n, -2n, -4n, 3n]);
});

test("an amount too large for exact doubles converts as exactly as a small one, ties to even either way", () => {
  // ¥1,000,000,000,000 × 1.08 / 162.50 = $6,646,153,846.153846… → 664615384615 cents.
  expect(convertPayment(payment(1_000_000_000_000, "JPY"), "USD", book).amount).toBe(664615384615);
  expect(convertPayment(payment(-5, "EUR"), "GBP", { ecb: { date: "d", perEur: { GBP: "0.5" } }, manual: [] }).amount).toBe(-2);
  expect(convertPayment(payment(-7, "EUR"), "GBP", { ecb: { date: "d", perEur: { GBP: "0.5" } }, manual: [] }).amount).toBe(-4);
});

test("a payment in the reporting currency is itself, rate 1, source same", () => {
  expect(convertPayment(payment(1234, "USD"), "USD", book)).toEqual({ currency: "USD", amount: 1234, net: 1234, rate: 1, rateSource: "same", rateDate: "2026-12-04" });
});

test("ECB rates cross through EUR with the exponent difference and one rounding", () => {
  // ¥3,000 × (1.08 / 162.5) USD per yen = $19.938… → 1994 cents.
  expect(convertPayment(payment(3000, "JPY"), "USD", book)).toMatchObject({ amount: 1994, rateSource: "ecb", rateDate: "2026-12-04" });
  // $19.94 → yen: 1994 cents × 162.5 / 1.08 / 100 = ¥3000.23 → ¥3000.
  expect(convertPayment(payment(1994, "USD"), "JPY", book)).toMatchObject({ amount: 3000, rate: 150.462963 });
  // 12.345 KWD (three decimals) → EUR: 12345 × (1 / 0.33) / 10 = 3740.909… → 3741 cents.
  expect(convertPayment(payment(12345, "KWD"), "EUR", book)).toMatchObject({ amount: 3741 });
  // A tie goes to the even cent: 5 × 0.5 = 2.5 → 2, 7 × 0.5 = 3.5 → 4.
  expect(convertPayment(payment(5, "EUR"), "GBP", { ecb: { date: "d", perEur: { GBP: "0.5" } }, manual: [] })).toMatchObject({ amount: 2 });
  expect(convertPayment(payment(7, "EUR"), "GBP", { ecb: { date: "d", perEur: { GBP: "0.5" } }, manual: [] })).toMatchObject({ amount: 4 });
});

test("the provider's own conversion wins when it settled in the reporting currency", () => {
  const settled = convertPayment(payment(4900, "EUR", { settlement: { currency: "USD", amount: 5341, of: 4900 } }), "USD", book);
  expect(settled).toMatchObject({ amount: 5341, net: 5341, rate: 1.09, rateSource: "provider" });
  // Settled in another currency than the reporting one: the ECB rate instead.
  expect(convertPayment(payment(4900, "EUR", { settlement: { currency: "GBP", amount: 4200, of: 4900 } }), "USD", book)).toMatchObject({ amount: 5292, rateSource: "ecb" });
});

test("no ECB rate: a manual rate, crossed through its per currency; none without one", () => {
  expect(convertPayment(payment(36730, "AED"), "USD", book)).toEqual({ currency: "USD", amount: null, net: null, rate: null, rateSource: "none", rateDate: null });
  const manual = [{ currency: "AED", per: "USD", rate: "0.2723", from: null }];
  expect(convertPayment(payment(36730, "AED"), "USD", { ecb: book.ecb, manual })).toMatchObject({ amount: 10002, rateSource: "manual", rateDate: "2026-12-04" });
  // AED → USD by hand, then USD → EUR by the ECB: 367.30 × 0.2723 / 1.08 = €92.607… → 9261.
  expect(convertPayment(payment(36730, "AED"), "EUR", { ecb: book.ecb, manual })).toMatchObject({ amount: 9261, rateSource: "manual" });
  // Reporting in AED: USD payments go through the inverse of the manual rate. $100 / 0.2723 = 367.242… AED → 36724.
  expect(convertPayment(payment(10000, "USD"), "AED", { ecb: book.ecb, manual })).toMatchObject({ amount: 36724, rateSource: "manual" });
  // A rate from a later day does not apply.
  expect(convertPayment(payment(36730, "AED"), "USD", { ecb: null, manual: [{ ...manual[0]!, from: "2026-12-05" }] }).rateSource).toBe("none");
});

test("the feed is read as XML in either quote style, oldest first; closing days are known", () => {
  const fixings = parseEcbXml(`<Cube><Cube time="2024-01-05"><Cube currency="USD" rate="1.0921"/></Cube><Cube time='2024-01-04'><Cube currency='USD' rate='1.0953'/><Cube currency='ZZZ' rate='2'/></Cube></Cube>`);
  expect(fixings).toEqual([
    { date: "2024-01-04", perEur: { USD: "1.0953" } },
    { date: "2024-01-05", perEur: { USD: "1.0921" } },
  ]);
  expect(() => parseEcbXml("<html>maintenance</html>")).toThrow("no ECB reference rates");
  expect(["2026-12-05", "2026-12-25", "2026-04-03", "2026-04-06", "2026-05-01"].every(isTargetClosingDay)).toBe(true);
  expect(isTargetClosingDay("2026-12-04")).toBe(false);
  // Sunday: the last published day is Friday; Monday 10:00 UTC is still before Monday's fixing.
  expect(lastPublishedWorkingDay(Date.parse("2026-12-06T12:00:00Z"))).toBe("2026-12-04");
  expect(lastPublishedWorkingDay(Date.parse("2026-12-07T10:00:00Z"))).toBe("2026-12-04");
  expect(lastPublishedWorkingDay(Date.parse("2026-12-07T15:30:00Z"))).toBe("2026-12-07");
});
