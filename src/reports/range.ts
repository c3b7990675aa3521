// Time bounds in report and list queries: ISO dates, ISO date-times or unix milliseconds.
import { badRequest } from "../http/errors.ts";

export function parseTimeBound(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const text = value.trim();
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) throw badRequest(`${name} must be an ISO date (2026-11-01), an ISO date-time or unix milliseconds`);
  return ms;
}

export const DAY_MS = 86_400_000;
