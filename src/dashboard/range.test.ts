// Date ranges: calendar days in the project's timezone, the previous period, and bad queries.
import { expect, test } from "bun:test";
import { parseRange, rangeQuery, startOfLocalDay } from "./range.ts";

const NOW = Date.parse("2026-03-29T10:30:00Z");

test("30 days is the default and ends at tomorrow's local midnight", () => {
  const range = parseRange(new URLSearchParams(), "UTC", NOW);
  expect(range.key).toBe("30d");
  expect(range.fromDate).toBe("2026-02-28");
  expect(range.toDate).toBe("2026-03-29");
  expect(range.to).toBe(Date.parse("2026-03-30T00:00:00Z"));
  expect(range.from).toBe(Date.parse("2026-02-28T00:00:00Z"));
  expect(range.previousTo).toBe(range.from);
  expect(range.previousFrom).toBe(Date.parse("2026-01-29T00:00:00Z"));
});

test("today in Berlin starts at local midnight across the spring DST change", () => {
  const range = parseRange(new URLSearchParams("range=today"), "Europe/Berlin", NOW);
  expect(range.from).toBe(Date.parse("2026-03-28T23:00:00Z"));
  expect(range.to).toBe(Date.parse("2026-03-29T22:00:00Z"));
  expect(range.previousFrom).toBe(Date.parse("2026-03-27T23:00:00Z"));
});

test("a day in a timezone west of UTC belongs to its local date", () => {
  const range = parseRange(new URLSearchParams("range=today"), "America/Los_Angeles", Date.parse("2026-06-01T03:00:00Z"));
  expect(range.fromDate).toBe("2026-05-31");
  expect(range.from).toBe(Date.parse("2026-05-31T07:00:00Z"));
  expect(startOfLocalDay("2026-05-31", "America/Los_Angeles")).toBe(range.from);
});

test("a custom range includes both days and keeps its filters in the URL", () => {
  const range = parseRange(new URLSearchParams("range=custom&from=2026-01-01&to=2026-01-31&campaign=spring&bogus=1"), "UTC", NOW);
  expect(range.key).toBe("custom");
  expect(range.days).toBe(31);
  expect(range.filters).toEqual({ campaign: "spring" });
  expect(rangeQuery(range).toString()).toBe("range=custom&from=2026-01-01&to=2026-01-31&campaign=spring");
});

test("an unusable range falls back to 30 days and says why", () => {
  for (const query of ["range=custom&from=2026-02-31&to=2026-03-01", "range=custom&from=2026-03-10&to=2026-03-01", "range=yesterdayish", "from=<script>"]) {
    const range = parseRange(new URLSearchParams(query), "UTC", NOW);
    expect(range.key).toBe("30d");
    expect(range.error).toBeString();
  }
});
