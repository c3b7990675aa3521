// Erasing a person on request (SPEC §10, GDPR art. 17), the one function behind the dashboard,
// DELETE /api/v1/profiles and `bantico erase`: their email, name and traits leave the profiles,
// leads, payments (email, metadata, description, explanation), checkout contexts, event props and
// raw provider payloads; counts, amounts and attribution stay, as they are the business's books.
// The erasure deletes with secure_delete ON, then overwrites every free page of the file with zeros
// (earlier deletes may have left traces there), and the WAL is truncated afterwards, so no readable
// copy stays in the files.
import { notePersonsChanged, noteWrite } from "../reports/writes.ts";
import type { Database } from "bun:sqlite";
import type { AppContext } from "../context.ts";
import { normalizeEmail } from "../tracking/profiles.ts";
import { erasePersonFromExplanation, erasePersonFromPayload, erasePersonFromText, type PersonStrings } from "./payloads.ts";

/**
 * Who to erase: a profile (with the other profiles sharing its email), an email (its profiles,
 * payments and leads), or what the dashboard's one field holds: a profile id, else an email.
 */
export type PersonKey = { profileId: string } | { email: string } | { profileIdOrEmail: string };

export interface Erasure {
  profileIds: string[];
  visitorsUnlinked: number;
  eventsUnlinked: number;
  paymentsErased: number;
  leadsErased: number;
  providerEventsErased: number;
  /** The WAL was checkpointed and truncated: no copy of the erased data is left in it. */
  walTruncated: boolean;
}

/** One line for the dashboard and the command line. */
export function describeErasure(erased: Erasure): string {
  const who = erased.profileIds.length > 0 ? `profile ${erased.profileIds.join(", ")}` : "the person";
  return (
    `Erased ${who}: ${erased.visitorsUnlinked} visitor link(s) and ${erased.eventsUnlinked} event(s) unlinked; ` +
    `personal data removed from ${erased.paymentsErased} payment(s), ${erased.leadsErased} lead(s) and ${erased.providerEventsErased} raw provider event(s).`
  );
}

interface Person extends PersonStrings {
  profileIds: string[];
}

/** Erases the person and truncates the WAL; null when this project holds no such person. */
export async function erasePerson(ctx: AppContext, projectId: string, key: PersonKey): Promise<Erasure | null> {
  const erased = await ctx.writes.write((db) => {
    db.exec("PRAGMA secure_delete = ON");
    try {
      const done = eraseInTransaction(db, projectId, key);
      if (done) scrubFreePages(db);
      return done;
    } finally {
      db.exec("PRAGMA secure_delete = FAST");
    }
  });
  if (!erased) return null;
  // The WAL is otherwise reused from its start and keeps old frames, the erased data among them, past its current end.
  return { ...erased, walTruncated: await ctx.writes.truncateWal() };
}

function findPerson(db: Database, projectId: string, key: PersonKey): Person | null {
  const profilesWith = (column: "id" | "email", value: string) =>
    db.query<{ id: string; email: string | null; name: string | null }, [string, string]>(`SELECT id, email, name FROM profiles WHERE project_id = ? AND ${column} = ?`).all(projectId, value);
  const id = "profileId" in key ? key.profileId : "profileIdOrEmail" in key ? key.profileIdOrEmail : null;
  const named = id === null ? [] : profilesWith("id", id.trim());
  let emails: string[];
  if (named.length > 0) {
    emails = named.flatMap((p) => (p.email ? [p.email] : []));
  } else {
    const email = "email" in key ? normalizeEmail(key.email) : "profileIdOrEmail" in key ? normalizeEmail(key.profileIdOrEmail) : null;
    if (!email || !emailIsKnown(db, projectId, email)) return null;
    emails = [email];
  }
  const profiles = new Map(named.map((p) => [p.id, p]));
  for (const email of emails) for (const p of profilesWith("email", email)) profiles.set(p.id, p);
  return {
    profileIds: [...profiles.keys()],
    emails,
    names: [...new Set([...profiles.values()].flatMap((p) => (p.name ? [p.name] : [])))],
  };
}

function emailIsKnown(db: Database, projectId: string, email: string): boolean {
  return (
    db
      .query<{ found: number }, [string, string, string, string, string, string, string, string]>(
        `SELECT EXISTS (SELECT 1 FROM profiles INDEXED BY profiles_email WHERE project_id = ? AND email = ?)
           OR EXISTS (SELECT 1 FROM payments WHERE project_id = ? AND customer_email = ?)
           OR EXISTS (SELECT 1 FROM checkout_contexts WHERE project_id = ? AND customer_email = ?)
           OR EXISTS (SELECT 1 FROM leads WHERE project_id = ? AND lower(trim(email)) = ?) AS found`,
      )
      .get(projectId, email, projectId, email, projectId, email, projectId, email)!.found === 1
  );
}

const inList = (values: readonly string[]) => JSON.stringify(values);

function eraseInTransaction(db: Database, projectId: string, key: PersonKey): Omit<Erasure, "walTruncated"> | null {
  const person = findPerson(db, projectId, key);
  if (!person) return null;
  const { profileIds, emails } = person;
  const visitorIds = db
    .query<{ visitor_id: string }, [string, string]>("SELECT DISTINCT visitor_id FROM profile_visitors WHERE project_id = ? AND profile_id IN (SELECT value FROM json_each(?))")
    .all(projectId, inList(profileIds))
    .map((row) => row.visitor_id);

  const eventsUnlinked = eraseFromEvents(db, projectId, person, visitorIds);
  const visitorsUnlinked = db.query("DELETE FROM profile_visitors WHERE project_id = ? AND profile_id IN (SELECT value FROM json_each(?))").run(projectId, inList(profileIds)).changes;
  notePersonsChanged(db, projectId);
  db.query("DELETE FROM profiles WHERE project_id = ? AND id IN (SELECT value FROM json_each(?))").run(projectId, inList(profileIds));
  const paymentIds = eraseFromPayments(db, projectId, person);
  eraseFromCheckoutContexts(db, projectId, person);
  const leadsErased = db
    .query("UPDATE leads SET email = NULL, name = NULL WHERE project_id = ? AND lower(trim(email)) IN (SELECT value FROM json_each(?))")
    .run(projectId, inList(emails)).changes;
  const providerEventsErased = eraseFromProviderEvents(db, projectId, person, paymentIds);
  return { profileIds, visitorsUnlinked, eventsUnlinked, paymentsErased: paymentIds.length, leadsErased, providerEventsErased };
}

/** The person's events lose their profile id, and their props the person's details; returns how many were unlinked. */
function eraseFromEvents(db: Database, projectId: string, person: Person, visitorIds: string[]): number {
  const events = db
    .query<{ id: number; props: string | null }, [string, string, string, string]>(
      `SELECT id, props FROM events WHERE project_id = ? AND visitor_id IN (SELECT value FROM json_each(?)) AND props IS NOT NULL
       UNION SELECT id, props FROM events WHERE project_id = ? AND profile_id IN (SELECT value FROM json_each(?)) AND props IS NOT NULL`,
    )
    .all(projectId, inList(visitorIds), projectId, inList(person.profileIds));
  const update = db.prepare("UPDATE events SET props = ? WHERE id = ?");
  for (const event of events) {
    const props = erasePersonFromPayload(event.props!, person);
    if (props !== event.props) update.run(props, event.id);
  }
  // People counts read visits' profiles from windows kept per hour: the hours changed are read again.
  const hours = db
    .query<{ ts: number }, [string, string]>("SELECT DISTINCT ts / 3600000 * 3600000 AS ts FROM events WHERE project_id = ? AND profile_id IN (SELECT value FROM json_each(?))")
    .all(projectId, inList(person.profileIds));
  for (const { ts } of hours) noteWrite(db, projectId, ts);
  return db.query("UPDATE events SET profile_id = NULL WHERE project_id = ? AND profile_id IN (SELECT value FROM json_each(?))").run(projectId, inList(person.profileIds))
    .changes;
}

/** The person's payments keep amounts and attribution, and lose email, profile and the person in metadata, description and explanation. */
function eraseFromPayments(db: Database, projectId: string, person: Person): string[] {
  const payments = db
    .query<{ id: string; metadata: string; description: string; explanation: string; mismatches: string; occurred_at: number }, [string, string, string]>(
      `SELECT id, metadata, description, explanation, mismatches, occurred_at FROM payments WHERE project_id = ?
         AND (customer_email IN (SELECT value FROM json_each(?)) OR profile_id IN (SELECT value FROM json_each(?)))`,
    )
    .all(projectId, inList(person.emails), inList(person.profileIds));
  const update = db.prepare(
    "UPDATE payments SET customer_email = NULL, profile_id = NULL, metadata = ?, description = ?, explanation = ?, mismatches = ? WHERE id = ?",
  );
  for (const p of payments) {
    update.run(
      erasePersonFromPayload(p.metadata, person),
      erasePersonFromText(p.description, person),
      erasePersonFromExplanation(p.explanation, person, person.profileIds),
      erasePersonFromPayload(p.mismatches, person),
      p.id,
    );
    // A sale's payer is read from its window: that hour is read again.
    noteWrite(db, projectId, p.occurred_at);
  }
  return payments.map((p) => p.id);
}

function eraseFromCheckoutContexts(db: Database, projectId: string, person: Person): void {
  const contexts = db
    .query<{ provider: string; subscription_id: string; metadata: string }, [string, string]>(
      "SELECT provider, subscription_id, metadata FROM checkout_contexts WHERE project_id = ? AND customer_email IN (SELECT value FROM json_each(?))",
    )
    .all(projectId, inList(person.emails));
  const update = db.prepare("UPDATE checkout_contexts SET customer_email = NULL, metadata = ? WHERE project_id = ? AND provider = ? AND subscription_id = ?");
  for (const c of contexts) update.run(erasePersonFromPayload(c.metadata, person), projectId, c.provider, c.subscription_id);
}

/** Raw payloads of the person's payments, and any other payload that names their email (a customer update, a subscription checkout). */
function eraseFromProviderEvents(db: Database, projectId: string, person: Person, paymentIds: string[]): number {
  const byPayment = db
    .query<{ id: number; payload: string }, [string, string]>(
      `SELECT e.id, e.payload FROM provider_events e JOIN provider_event_payments p ON p.event_row = e.id
       WHERE e.project_id = ? AND p.payment_id IN (SELECT value FROM json_each(?))`,
    )
    .all(projectId, inList(paymentIds));
  const byEmail = person.emails.flatMap((email) =>
    db.query<{ id: number; payload: string }, [string, string]>("SELECT id, payload FROM provider_events WHERE project_id = ? AND instr(lower(payload), ?) > 0").all(projectId, email),
  );
  const events = new Map([...byPayment, ...byEmail].map((e) => [e.id, e.payload]));
  const update = db.prepare("UPDATE provider_events SET payload = ? WHERE id = ?");
  for (const [id, payload] of events) update.run(erasePersonFromPayload(payload, person), id);
  return events.size;
}

/** Takes every page on the free list with a zero-filled row, then frees them again: none keeps old bytes. */
function scrubFreePages(db: Database): void {
  const free = db.query<{ freelist_count: number }, []>("PRAGMA freelist_count").get()?.freelist_count ?? 0;
  if (free === 0) return;
  const pageSize = db.query<{ page_size: number }, []>("PRAGMA page_size").get()!.page_size;
  db.exec("CREATE TABLE erasure_scrub (zeros BLOB)");
  db.query("INSERT INTO erasure_scrub (zeros) VALUES (zeroblob(?))").run(free * pageSize);
  db.exec("DROP TABLE erasure_scrub");
}
