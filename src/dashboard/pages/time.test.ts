import { describe, expect, test } from "bun:test";
import { bucketize, bucketsFor, DAY_MS, HOUR_MS } from "./time.ts";
import { localDate, startOfLocalDay } from "../range.ts";

describe("chart buckets", () => {
  test("a day's range is drawn by the hour", () => {
    const from = Date.UTC(2026, 10, 20);
    const buckets = bucketsFor({ from, to: from + DAY_MS }, "UTC");
    expect(buckets.bucketMs).toBe(HOUR_MS);
    expect(buckets.starts).toHaveLength(24);
  });

  test("a month is drawn by local day in the project's time zone", () => {
    const from = Date.UTC(2026, 9, 22, 22); // midnight in Berlin (CEST)
    const to = from + 30 * DAY_MS;
    const buckets = bucketsFor({ from, to }, "Europe/Berlin");
    expect(buckets.bucketMs).toBe(DAY_MS);
    expect(buckets.starts[0]).toBe(from);
    // Berlin leaves summer time on Oct 25 2026: that day lasts 25 hours, later midnights are at 23:00 UTC.
    expect(buckets.starts[3]).toBe(Date.UTC(2026, 9, 25, 23));
    expect(buckets.starts[3]! - buckets.starts[2]!).toBe(25 * HOUR_MS);
    expect(buckets.starts.every((t) => startOfLocalDay(localDate(t, "Europe/Berlin"), "Europe/Berlin") === t)).toBe(true);
  });

  test("hourly rollup rows land in the right local day, zero-filled elsewhere", () => {
    const from = Date.UTC(2026, 10, 10, 5); // 00:00 in New York (EST)
    const buckets = bucketsFor({ from, to: from + 3 * DAY_MS }, "America/New_York");
    const series = bucketize(
      [
        { hour: Date.UTC(2026, 10, 10, 4), n: 100 }, // before the range
        { hour: Date.UTC(2026, 10, 10, 6), n: 2 },
        { hour: Date.UTC(2026, 10, 11, 4), n: 3 }, // 23:00 Nov 10 in New York
        { hour: Date.UTC(2026, 10, 12, 6), n: 5 },
      ],
      buckets,
      (row) => row.n,
    );
    expect(series.map((p) => p.value)).toEqual([5, 0, 5]);
  });
});
