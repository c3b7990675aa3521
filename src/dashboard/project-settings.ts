// Server-side validation of the project settings form: every field gets its own clear message.
import type { ProjectSettings } from "../projects/service.ts";
import { pricingPatternError } from "../tracking/pricing-pattern.ts";
import { normalizeCurrency } from "../payments/money.ts";

export interface SettingsForm {
  name: string;
  allowedHostnames: string;
  currency: string;
  timezone: string;
  lookbackDays: string;
  pricingPathPattern: string;
  /** A checkbox: "on" when ticked. */
  countRenewals: string;
}

export type SettingsErrors = Partial<Record<keyof SettingsForm, string>>;

export const TIMEZONES: readonly string[] = ["UTC", ...Intl.supportedValuesOf("timeZone").filter((tz) => tz !== "UTC")];
const TIMEZONE_SET = new Set(TIMEZONES);
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
export const MAX_LOOKBACK_DAYS = 730;

/** "https://www.Example.com/path" → "www.example.com"; "*.example.com" stays a wildcard. */
function normalizeHostname(input: string): string {
  let value = input.trim().toLowerCase();
  value = value.replace(/^[a-z][a-z0-9+.-]*:\/\//, "");
  value = value.split(/[/?#]/)[0]!;
  return value.replace(/\.$/, "");
}

function isHostname(value: string): boolean {
  const [host, port, ...rest] = value.split(":");
  if (rest.length > 0 || (port !== undefined && !/^\d{1,5}$/.test(port))) return false;
  const labels = host!.startsWith("*.") ? host!.slice(2).split(".") : host!.split(".");
  return host!.length <= 253 && labels.length >= 1 && labels.every((l) => LABEL.test(l));
}

/** What is wrong with a project name (already trimmed), or undefined: for setup, a new project and its settings alike. */
export function projectNameError(name: string): string | undefined {
  if (!name) return "Give the project a name.";
  if (name.length > 100) return "Keep the name under 100 characters.";
  return undefined;
}

export function validateSettings(form: SettingsForm): { settings: ProjectSettings; errors: SettingsErrors } {
  const errors: SettingsErrors = {};
  const name = form.name.trim();
  const nameError = projectNameError(name);
  if (nameError) errors.name = nameError;

  const hostnames: string[] = [];
  for (const entry of form.allowedHostnames.split(/[\s,]+/).filter(Boolean)) {
    const host = normalizeHostname(entry);
    if (!isHostname(host)) {
      errors.allowedHostnames = `"${entry}" is not a hostname. Write one per line, like example.com or *.example.com.`;
      break;
    }
    if (!hostnames.includes(host)) hostnames.push(host);
  }
  if (hostnames.length > 100) errors.allowedHostnames = "List at most 100 hostnames.";

  const currency = normalizeCurrency(form.currency) ?? "";
  if (!currency) errors.currency = `"${form.currency.trim()}" is not an ISO 4217 currency code (e.g. USD, EUR, JPY).`;

  const timezone = form.timezone.trim();
  if (!TIMEZONE_SET.has(timezone)) errors.timezone = `"${timezone}" is not a timezone this server knows (e.g. Europe/Berlin).`;

  const lookbackDays = Number(form.lookbackDays.trim());
  if (!/^\d+$/.test(form.lookbackDays.trim()) || lookbackDays < 1 || lookbackDays > MAX_LOOKBACK_DAYS) {
    errors.lookbackDays = `Enter a whole number of days from 1 to ${MAX_LOOKBACK_DAYS}.`;
  }

  const pricingPathPattern = form.pricingPathPattern.trim();
  const patternError = pricingPatternError(pricingPathPattern);
  if (patternError) errors.pricingPathPattern = patternError;

  const countRenewals = form.countRenewals === "on";
  return { settings: { name, allowedHostnames: hostnames, currency, timezone, lookbackDays, pricingPathPattern, countRenewals }, errors };
}
