// Erasing a person from stored text: raw provider payloads, checkout metadata, event props and
// attribution explanations keep their shape (ids and amounts, for debugging and the books) and lose
// the person's details. Pure functions; src/privacy/erasure.ts finds what to pass them.

/** What identifies the person in text: their emails (lower-cased) and names. */
export interface PersonStrings {
  emails: string[];
  names: string[];
}

/**
 * Fields that hold the paying person's details in Stripe and Polar objects, wherever they stand: a
 * raw payload of this person's payment names no one else. Within a person's record (Stripe's
 * customer_details, billing_details, shipping; Polar's customer) `name` is theirs too; elsewhere it
 * names a product or a price and stays.
 */
const PERSONAL_FIELDS = new Set([
  "email",
  "customer_email",
  "receipt_email",
  "customer_name",
  "customer_phone",
  "customer_address",
  "customer_shipping",
  "customer_tax_ids",
  "billing_name",
  "billing_address",
  "phone",
  "address",
  "tax_ids",
  "individual_name",
  "shipping_address",
]);
const PERSON_RECORDS = new Set(["customer", "customer_details", "billing_details", "shipping", "shipping_details"]);
const ERASED = "[erased]";

/** Every string inside `value` erased, so the payload keeps its shape for debugging. */
function eraseStrings(value: unknown): unknown {
  if (typeof value === "string") return ERASED;
  if (Array.isArray(value)) return value.map(eraseStrings);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, eraseStrings(inner)]));
  return value;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Emails anywhere (any case); names as whole words, so "Al" leaves "Alpha" alone. */
function personPattern(person: PersonStrings): RegExp | null {
  const parts = [
    ...person.emails.filter(Boolean).map(escapeRegExp),
    ...person.names.filter((name) => name.trim().length > 1).map((name) => `(?<![\\p{L}\\p{N}])${escapeRegExp(name.trim())}(?![\\p{L}\\p{N}])`),
  ];
  return parts.length > 0 ? new RegExp(parts.join("|"), "giu") : null;
}

/** The text with the person's emails and names replaced by "[erased]". */
export function erasePersonFromText(text: string, person: PersonStrings): string {
  const pattern = personPattern(person);
  return pattern ? text.replace(pattern, ERASED) : text;
}

/**
 * An attribution explanation (a JSON array of sentences) without the person: a sentence naming their
 * email also names the profiles it matched ("matches profile user_2"), which go with it.
 */
export function erasePersonFromExplanation(explanation: string, person: PersonStrings, profileIds: readonly string[]): string {
  const sentences = JSON.parse(explanation) as string[];
  const emails = person.emails.filter(Boolean);
  const ids = profileIds.map((id) => new RegExp(`(?<=profiles? (?:[^;]*, )?)${escapeRegExp(id)}(?=[,;. ]|$)`, "g"));
  return JSON.stringify(
    sentences.map((sentence) => {
      const namesPerson = emails.some((email) => sentence.toLowerCase().includes(email));
      const withoutIds = namesPerson ? ids.reduce((text, id) => text.replace(id, ERASED), sentence) : sentence;
      return erasePersonFromText(withoutIds, person);
    }),
  );
}

/** The payload with the person's fields erased, and their email and name wherever else they appear (metadata, descriptions). */
export function erasePersonFromPayload(payload: string, person: PersonStrings): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return erasePersonFromText(payload, person);
  }
  const visit = (value: unknown, inPersonRecord: boolean): unknown => {
    if (typeof value === "string") return erasePersonFromText(value, person);
    if (Array.isArray(value)) return value.map((item) => visit(item, inPersonRecord));
    if (!value || typeof value !== "object") return value;
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => {
        if (PERSONAL_FIELDS.has(key) || (inPersonRecord && key === "name")) return [key, eraseStrings(inner)];
        return [key, visit(inner, PERSON_RECORDS.has(key))];
      }),
    );
  };
  return JSON.stringify(visit(parsed, false));
}
