// What the tracker and the events/identify API accept: names, props, traits, timestamps.
import { z } from "zod";

export const PROPS_MAX_BYTES = 4096;
export const PROPS_MAX_DEPTH = 3;
export const PROPS_MAX_KEYS = 50;

/** Why props are refused, or null: at most 3 levels deep, 50 keys per object, 4 KB as JSON. */
export function propsProblem(value: unknown): string | null {
  const walk = (node: unknown, depth: number): string | null => {
    if (node === null || typeof node === "boolean" || typeof node === "string") return null;
    if (typeof node === "number") return Number.isFinite(node) ? null : "numbers must be finite";
    if (typeof node !== "object") return "values must be JSON";
    if (depth >= PROPS_MAX_DEPTH) return `nesting deeper than ${PROPS_MAX_DEPTH} levels`;
    const entries = Array.isArray(node) ? node.map((v, i) => [String(i), v] as const) : Object.entries(node);
    if (entries.length > PROPS_MAX_KEYS) return `more than ${PROPS_MAX_KEYS} entries in one object`;
    for (const [key, child] of entries) {
      if (key.length > 100) return "keys longer than 100 characters";
      const problem = walk(child, depth + 1);
      if (problem) return problem;
    }
    return null;
  };
  const problem = walk(value, 0);
  if (problem) return problem;
  return Buffer.byteLength(JSON.stringify(value)) > PROPS_MAX_BYTES ? `larger than ${PROPS_MAX_BYTES} bytes` : null;
}

export const propsSchema = z
  .record(z.string(), z.unknown())
  .superRefine((value, ctx) => {
    const problem = propsProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: `props: ${problem}` });
  });

export const EVENT_NAME_PATTERN = /^[A-Za-z0-9_.:\- ]{1,64}$/;

/** Names only the server records: a click comes from /l/{slug}, a pricing view from the page's path, a payment from a provider. */
export const SERVER_ONLY_EVENTS = new Set(["link_clicked", "pricing_view", "payment_completed"]);

export const eventNameSchema = z
  .string()
  .trim()
  .regex(EVENT_NAME_PATTERN, "must be 1-64 letters, digits, spaces or _ . : -")
  .refine((name) => !SERVER_ONLY_EVENTS.has(name), "is recorded by Bantico itself and cannot be sent");

const idSchema = z.union([z.string().trim().min(1).max(200), z.number().int().transform(String)]);
const emailSchema = z.string().trim().max(320).nullish();
const nameSchema = z.string().trim().max(200).nullish();

/** `bantico.identify({ id, email, name, ...traits })` and `POST /api/v1/identify`. */
export const identifySchema = z.object({
  id: idSchema,
  email: emailSchema,
  name: nameSchema,
  traits: propsSchema.nullish(),
});

/** The script sends traits beside id/email/name and the optional `hash` that signs the id; this gathers them. */
export const scriptIdentifySchema = z.preprocess(
  (value) => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
    const { id, email, name, hash, ...traits } = value as Record<string, unknown>;
    return { id, email, name, hash, traits };
  },
  identifySchema.extend({ hash: z.string().max(200).nullish() }),
);

/** A profile's traits after every identify merged into them: 20 calls of 4 KB each must not grow one profile to 80 KB. */
export const PROFILE_TRAITS_MAX_KEYS = 50;
export const PROFILE_TRAITS_MAX_BYTES = 8192;

const MAX_PAST_MS = 400 * 86_400_000;
const MAX_FUTURE_MS = 10 * 60_000;

/** An ISO 8601 string or unix milliseconds, not before 400 days ago nor more than 10 minutes ahead of `now`. */
export function timestampSchema(now: () => number) {
  return z
    .union([z.number().int(), z.iso.datetime({ offset: true }).transform((s) => Date.parse(s))])
    .refine((ts) => ts >= now() - MAX_PAST_MS && ts <= now() + MAX_FUTURE_MS, "must be within the last 400 days and not in the future");
}
