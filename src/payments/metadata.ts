// Bantico's checkout metadata keys (SPEC §5), read in camelCase, snake_case or with a bantico_ prefix.
import type { AttributionContext } from "../attribution/engine.ts";
export interface BanticoMetadata extends AttributionContext {
  visitorId: string | null;
  sessionId: string | null;
}

/** The metadata key the tracker gives the visitor id in no-code checkout links. */
export const CHECKOUT_LINK_KEY = "bantico_visitor";

export const METADATA_FIELDS = ["linkId", "campaignId", "source", "medium", "content", "leadId", "visitorId", "sessionId"] as const;

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function spellings(field: string): string[] {
  const snake = snakeCase(field);
  return [field, snake, `bantico_${field}`, `bantico_${snake}`, `bantico${field[0]!.toUpperCase()}${field.slice(1)}`];
}

const SPELLINGS = Object.fromEntries(METADATA_FIELDS.map((f) => [f, spellings(f)])) as Record<keyof BanticoMetadata, string[]>;
// Sites often pass Bantico's visitor id as Stripe's client_reference_id (it works on Payment Link URLs too).
// The tracker adds it to no-code checkout links (static/bantico.js) as Stripe's client_reference_id,
// Polar's reference_id, and bantico_visitor in Lemon Squeezy, Creem and Dodo metadata (Dodo may keep
// its link parameter's metadata_ prefix).
SPELLINGS.visitorId.push("client_reference_id", "reference_id", CHECKOUT_LINK_KEY, `metadata_${CHECKOUT_LINK_KEY}`);

/** Provider metadata values can be numbers or booleans (Polar); keep strings, drop empties. */
export function flattenMetadata(raw: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return out;
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") out[key] = String(value);
  }
  return out;
}

/** Empty strings count as absent; the first spelling present wins. */
export function readBanticoMetadata(metadata: Record<string, string>): BanticoMetadata {
  const result = {} as BanticoMetadata;
  for (const field of METADATA_FIELDS) {
    let value: string | null = null;
    for (const key of SPELLINGS[field]) {
      const candidate = metadata[key]?.trim();
      if (candidate) {
        value = candidate;
        break;
      }
    }
    result[field] = value;
  }
  return result;
}

/** Merges metadata from several provider objects; earlier sources keep their non-empty values. */
export function mergeMetadata(...sources: Array<Record<string, string> | null | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const source of sources) {
    if (!source) continue;
    for (const [key, value] of Object.entries(source)) if (value.trim() !== "" && out[key] === undefined) out[key] = value;
  }
  return out;
}

export function normalizeEmail(email: unknown): string | null {
  if (typeof email !== "string") return null;
  const trimmed = email.trim().toLowerCase();
  return trimmed.includes("@") ? trimmed : null;
}
