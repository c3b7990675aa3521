// Time buckets for charts: hours for short ranges, local days in the project's time zone otherwise.
import { addDays, localDate, startOfLocalDay } from "../range.ts";

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** A half-open interval [from, to) in unix ms. */
export interface TimeRange {
  from: number;
  to: number;
}

export interface Buckets {
  bucketMs: number;
  /** Start of every bucket in the range, in order. */
  starts: number[];
  /** Index of the bucket an hour (or any instant) falls into, or -1 outside the range. */
  indexOf(t: number): number;
}

/** Hourly buckets up to two days, daily buckets (local days) beyond. */
export function bucketsFor(range: TimeRange, timeZone: string): Buckets {
  if (range.to - range.from <= 2 * DAY_MS) {
    const first = Math.floor(range.from / HOUR_MS) * HOUR_MS;
    const starts: number[] = [];
    for (let t = first; t < range.to; t += HOUR_MS) starts.push(t);
    return { bucketMs: HOUR_MS, starts, indexOf: (t) => (t < first || t >= range.to ? -1 : Math.floor((t - first) / HOUR_MS)) };
  }
  const starts: number[] = [];
  // Local midnights, so a day in Berlin is a Berlin day (23 or 25 hours on daylight-saving days).
  for (let day = localDate(range.from, timeZone), t = startOfLocalDay(day, timeZone); t < range.to; day = addDays(day, 1), t = startOfLocalDay(day, timeZone)) {
    starts.push(t);
  }
  return {
    bucketMs: DAY_MS,
    starts,
    indexOf(t) {
      if (t < starts[0]! || t >= range.to) return -1;
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid]! <= t) lo = mid;
        else hi = mid - 1;
      }
      return lo;
    },
  };
}

/** Sums hourly rows into the range's buckets: one value per bucket, zero where nothing happened. */
export function bucketize<Row extends { hour: number }>(rows: Row[], buckets: Buckets, value: (row: Row) => number): { t: number; value: number }[] {
  const values = buckets.starts.map(() => 0);
  for (const row of rows) {
    const index = buckets.indexOf(row.hour);
    if (index >= 0) values[index]! += value(row);
  }
  return buckets.starts.map((t, i) => ({ t, value: values[i]! }));
}
