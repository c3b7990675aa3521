// Deleting a profile's personal data on request: the profile, its visitor links, its id on events
// and payments, its email on payments and checkout contexts, and the person's details (email, name,
// phone, addresses, tax ids) in the raw provider payloads of its payments. Payment amounts stay:
// they are the business's books.
import { notePersonsChanged } from "../reports/people/windows.ts";
import type { Database } from "bun:sqlite";

export interface ProfileDeletion {
  profileId: string;
  visitorsUnlinked: number;
  eventsUnlinked: number;
  paymentEmailsErased: number;
}

/** Finds the profile by its id or its email (case-insensitive) in this project only. */
export function findProfile(db: Database, projectId: string, idOrEmail: string): { id: string; email: string | null } | null {
  const value = idOrEmail.trim();
  return db
    .query<{ id: string; email: string | null }, [string, string, string]>(
      "SELECT id, email FROM profiles WHERE project_id = ? AND (id = ? OR email = ?) ORDER BY id = ?2 DESC LIMIT 1",
    )
    .get(projectId, value, value.toLowerCase());
}

export function deleteProfileData(db: Database, projectId: string, idOrEmail: string): ProfileDeletion | null {
  return db.transaction(() => {
    const profile = findProfile(db, projectId, idOrEmail);
    if (!profile) return null;
    const eventsUnlinked = db.query("UPDATE events SET profile_id = NULL WHERE project_id = ? AND profile_id = ?").run(projectId, profile.id).changes;
    const visitorsUnlinked = db.query("DELETE FROM profile_visitors WHERE project_id = ? AND profile_id = ?").run(projectId, profile.id).changes;
    notePersonsChanged(db, projectId);
    db.query("DELETE FROM profiles WHERE project_id = ? AND id = ?").run(projectId, profile.id);
    db.query("UPDATE payments SET profile_id = NULL WHERE project_id = ? AND profile_id = ?").run(projectId, profile.id);
    let paymentEmailsErased = 0;
    if (profile.email) {
      const paymentIds = db
        .query<{ id: string }, [string, string]>("SELECT id FROM payments WHERE project_id = ? AND customer_email = ?")
        .all(projectId, profile.email)
        .map((p) => p.id);
      paymentEmailsErased = db.query("UPDATE payments SET customer_email = NULL WHERE project_id = ? AND customer_email = ?").run(projectId, profile.email).changes;
      db.query("UPDATE checkout_contexts SET customer_email = NULL WHERE project_id = ? AND customer_email = ?").run(projectId, profile.email);
      eraseFromProviderPayloads(db, projectId, paymentIds, profile.email);
    }
    return { profileId: profile.id, visitorsUnlinked, eventsUnlinked, paymentEmailsErased };
  })();
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

/** The payload with the person's fields erased, and their email wherever else it appears (metadata, descriptions). */
export function erasePersonFromPayload(payload: string, email: string): string {
  const emailPattern = new RegExp(email.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "gi");
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return payload.replace(emailPattern, ERASED);
  }
  const visit = (value: unknown, inPersonRecord: boolean): unknown => {
    if (typeof value === "string") return value.replace(emailPattern, ERASED);
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

function eraseFromProviderPayloads(db: Database, projectId: string, paymentIds: string[], email: string): void {
  if (paymentIds.length === 0) return;
  const events = db
    .query<{ id: number; payload: string }, [string, string]>(
      `SELECT DISTINCT e.id, e.payload FROM provider_events e, json_each(e.payment_ids) p
       WHERE e.project_id = ? AND p.value IN (SELECT value FROM json_each(?))`,
    )
    .all(projectId, JSON.stringify(paymentIds));
  const update = db.prepare("UPDATE provider_events SET payload = ? WHERE id = ?");
  for (const event of events) update.run(erasePersonFromPayload(event.payload, email), event.id);
}
