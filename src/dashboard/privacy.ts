// Deleting a profile's personal data on request: the profile, its visitor links, its id on events
// and payments, and its email on payments, checkout contexts and raw provider payloads. Payment
// amounts stay: they are the business's books.
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

/** Raw provider events of those payments keep their shape for debugging, with the email blanked out. */
function eraseFromProviderPayloads(db: Database, projectId: string, paymentIds: string[], email: string): void {
  if (paymentIds.length === 0) return;
  const pattern = new RegExp(email.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "gi");
  const events = db
    .query<{ id: number; payload: string }, [string, string]>(
      `SELECT DISTINCT e.id, e.payload FROM provider_events e, json_each(e.payment_ids) p
       WHERE e.project_id = ? AND p.value IN (SELECT value FROM json_each(?))`,
    )
    .all(projectId, JSON.stringify(paymentIds));
  const update = db.prepare("UPDATE provider_events SET payload = ? WHERE id = ?");
  for (const event of events) update.run(event.payload.replace(pattern, "[erased]"), event.id);
}
