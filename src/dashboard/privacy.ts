// Deleting a profile's personal data on request: the profile, its visitor links, its id on events,
// and the customer email on payments (the payment amounts stay: they are the business's books).
import type { Database } from "bun:sqlite";

export interface ProfileDeletion {
  profileId: string;
  visitorsUnlinked: number;
  eventsUnlinked: number;
  paymentEmailsErased: number;
}

/** Tables written by other capabilities that may hold a customer email; erased where present. */
const EMAIL_COLUMNS = [
  ["payments", "customer_email"],
  ["checkout_contexts", "customer_email"],
] as const;

function hasColumn(db: Database, table: string, column: string): boolean {
  return db.query<{ name: string }, []>(`SELECT name FROM pragma_table_info('${table}')`).all().some((c) => c.name === column);
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
    const eventsUnlinked = db
      .query("UPDATE events SET profile_id = NULL WHERE project_id = ? AND profile_id = ?")
      .run(projectId, profile.id).changes;
    const visitorsUnlinked = db.query("DELETE FROM profile_visitors WHERE project_id = ? AND profile_id = ?").run(projectId, profile.id).changes;
    db.query("DELETE FROM profiles WHERE project_id = ? AND id = ?").run(projectId, profile.id);
    let paymentEmailsErased = 0;
    if (profile.email) {
      for (const [table, column] of EMAIL_COLUMNS) {
        if (!hasColumn(db, table, column)) continue;
        const changes = db.query(`UPDATE ${table} SET ${column} = NULL WHERE project_id = ? AND ${column} = ?`).run(projectId, profile.email).changes;
        if (table === "payments") paymentEmailsErased = changes;
      }
    }
    return { profileId: profile.id, visitorsUnlinked, eventsUnlinked, paymentEmailsErased };
  })();
}
