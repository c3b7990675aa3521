// Time buckets for charts: hours for short ranges, local days in the project's time zone otherwise.

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** A half-open interval [from, to) in unix ms. */
export interface TimeRange {
  from: number;
  to: number;
}

/** The period of the same length just before, for "change vs previous period". */
export function previousPeriod(range: TimeRange): TimeRange {
  return { from: range.from - (range.to - range.from), to: range.from };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function partsFormatter(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Milliseconds to add to UTC to get the wall clock of `timeZone` at instant `t`. */
export function zoneOffset(t: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const part of partsFormatter(timeZone).formatToParts(t)) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return wall - Math.floor(t / 1000) * 1000;
}

/** The instant local midnight began for the day containing `t` in `timeZone`. */
export function startOfLocalDay(t: number, timeZone: string): number {
  const offset = zoneOffset(t, timeZone);
  const wallMidnight = Math.floor((t + offset) / DAY_MS) * DAY_MS;
  // The offset at midnight can differ from the offset at t on a daylight-saving day.
  return wallMidnight - zoneOffset(wallMidnight - offset, timeZone);
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
  // Step by local day: 24 h from one midnight, then snap back to that day's midnight (DST days are 23 or 25 h).
  for (let t = startOfLocalDay(range.from, timeZone); t < range.to; t = startOfLocalDay(t + DAY_MS + 2 * HOUR_MS, timeZone)) starts.push(t);
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
