// The date range and filters of a dashboard view, read from the URL query so a view can be shared.
// Days are calendar days in the project's timezone; `to` is exclusive.

export const RANGE_PRESETS = ["today", "7d", "30d", "90d", "365d"] as const;
export type RangePreset = (typeof RANGE_PRESETS)[number];
export type RangeKey = RangePreset | "custom";
export const DEFAULT_RANGE: RangePreset = "30d";

/** Query parameters that narrow a view to one attribution context value. */
export const FILTER_KEYS = ["link", "campaign", "source", "medium", "content", "lead"] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];
export type Filters = Partial<Record<FilterKey, string>>;

export interface DateRange {
  key: RangeKey;
  /** Unix ms, inclusive start of the first day (local midnight in `timezone`). */
  from: number;
  /** Unix ms, exclusive end: local midnight after the last day. */
  to: number;
  /** The period of the same length just before: for "change against the previous period". */
  previousFrom: number;
  previousTo: number;
  /** First and last day, YYYY-MM-DD in the project's timezone (what the custom inputs show). */
  fromDate: string;
  toDate: string;
  days: number;
  timezone: string;
  filters: Filters;
  /** Set when the query asked for something unusable; the range then falls back to the default. */
  error: string | null;
}

const MAX_CUSTOM_DAYS = 3660;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function parseRange(query: URLSearchParams, timezone: string, now: number): DateRange {
  const filters: Filters = {};
  for (const key of FILTER_KEYS) {
    const value = query.get(key)?.trim();
    if (value) filters[key] = value.slice(0, 200);
  }
  const today = localDate(now, timezone);
  const requested = query.get("range") ?? (query.has("from") || query.has("to") ? "custom" : DEFAULT_RANGE);
  let error: string | null = null;
  let fromDate: string;
  let toDate = today;
  let key: RangeKey;
  if (requested === "custom") {
    const from = parseDate(query.get("from") ?? "");
    const to = parseDate(query.get("to") ?? "");
    if (!from || !to) error = "Pick a start and an end date (YYYY-MM-DD).";
    else if (from > to) error = "The start date is after the end date.";
    else if (daysBetween(from, to) + 1 > MAX_CUSTOM_DAYS) error = "Pick at most ten years.";
    if (error === null) {
      key = "custom";
      fromDate = from!;
      toDate = to!;
    } else {
      key = DEFAULT_RANGE;
      fromDate = addDays(today, -(presetDays(DEFAULT_RANGE) - 1));
    }
  } else {
    key = (RANGE_PRESETS as readonly string[]).includes(requested) ? (requested as RangePreset) : DEFAULT_RANGE;
    if (key !== requested) error = `Unknown range "${requested}".`;
    fromDate = addDays(today, -(presetDays(key as RangePreset) - 1));
  }
  const days = daysBetween(fromDate, toDate) + 1;
  const from = startOfLocalDay(fromDate, timezone);
  const to = startOfLocalDay(addDays(toDate, 1), timezone);
  const previousFrom = startOfLocalDay(addDays(fromDate, -days), timezone);
  return { key, from, to, previousFrom, previousTo: from, fromDate, toDate, days, timezone, filters, error };
}

/** The query string that reproduces a range and its filters (for links that keep the view). */
export function rangeQuery(range: Pick<DateRange, "key" | "fromDate" | "toDate" | "filters">): URLSearchParams {
  const query = new URLSearchParams();
  if (range.key === "custom") {
    query.set("range", "custom");
    query.set("from", range.fromDate);
    query.set("to", range.toDate);
  } else if (range.key !== DEFAULT_RANGE) {
    query.set("range", range.key);
  }
  for (const key of FILTER_KEYS) {
    const value = range.filters[key];
    if (value) query.set(key, value);
  }
  return query;
}

function presetDays(preset: RangePreset): number {
  return preset === "today" ? 1 : Number.parseInt(preset, 10);
}

function parseDate(value: string): string | null {
  const match = DATE.exec(value.trim());
  if (!match) return null;
  const [, y, m, d] = match;
  const date = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
  return date.toISOString().slice(0, 10) === value.trim() ? value.trim() : null;
}

export function addDays(date: string, days: number): string {
  const t = Date.parse(`${date}T00:00:00Z`) + days * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-CA", {
      timeZone: timezone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timezone, f);
  }
  return f;
}

/** The wall-clock parts of an instant in a timezone. */
function wallClock(instant: number, timezone: string): { date: string; ms: number } {
  const parts = Object.fromEntries(formatter(timezone).formatToParts(instant).map((p) => [p.type, p.value]));
  const date = `${parts.year}-${parts.month}-${parts.day}`;
  const ms = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return { date, ms };
}

/** The calendar day (YYYY-MM-DD) an instant falls on in a timezone. */
export function localDate(instant: number, timezone: string): string {
  return wallClock(instant, timezone).date;
}

const midnights = new Map<string, number>();

/** Unix ms of local midnight starting `date` in `timezone` (the first instant of that day, across DST gaps). */
export function startOfLocalDay(date: string, timezone: string): number {
  // A year's range asks for a few hundred midnights per report, each three time-zone conversions.
  const key = `${timezone}|${date}`;
  let start = midnights.get(key);
  if (start === undefined) {
    if (midnights.size >= 50_000) midnights.clear();
    midnights.set(key, (start = computeStartOfLocalDay(date, timezone)));
  }
  return start;
}

function computeStartOfLocalDay(date: string, timezone: string): number {
  const wallMidnight = Date.parse(`${date}T00:00:00Z`);
  // Guess with the offset at that moment, then correct once for a DST change in between.
  let guess = wallMidnight - offsetAt(wallMidnight, timezone);
  guess = wallMidnight - offsetAt(guess, timezone);
  // In a zone whose clocks skip midnight, the day starts at the first instant that shows the date.
  if (localDate(guess, timezone) !== date) guess += 3_600_000;
  return guess;
}

function offsetAt(instant: number, timezone: string): number {
  return wallClock(instant, timezone).ms - Math.floor(instant / 1000) * 1000;
}
