// Time bounds in report and list queries: ISO dates, ISO date-times or unix milliseconds.
import { badRequest } from "../http/errors.ts";

/** The end of the year 9999: beyond it a time is no date anyone means, and JavaScript cannot format some of them. */
const LATEST_TIME_BOUND_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

export function parseTimeBound(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const text = value.trim();
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) throw badRequest(`${name} must be an ISO date (2026-11-01), an ISO date-time or unix milliseconds`);
  if (ms < 0 || ms > LATEST_TIME_BOUND_MS) throw badRequest(`${name} must lie between 1970 and the year 9999`);
  return ms;
}

export const DAY_MS = 86_400_000;
