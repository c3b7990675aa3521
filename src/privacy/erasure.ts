// Erasing a person on request (SPEC §10, GDPR art. 17), the one function behind the dashboard,
// DELETE /api/v1/profiles and `bantico erase`: their email, name and traits leave the profiles,
// leads, payments (email, metadata, description, explanation), checkout contexts, event props and
// raw provider payloads; counts, amounts and attribution stay, as they are the business's books.
// On SQLite the erasure deletes with secure_delete ON, then overwrites every free page of the file with
// zeros (earlier deletes may have left traces there), and the WAL is truncated afterwards, so no
// readable copy stays in the files. On PostgreSQL the touched tables are vacuumed once it commits (the
// bytes of a removed row version can stay in a page's free space until reused; VACUUM FULL rewrites them).
import { notePersonsChanged, noteWrite } from "../reports/writes.ts";
import type { Database } from "bun:sqlite";
import type { JobQueue, JobSteps, JobTx } from "../db/storage/jobs.ts";
import type { Storage } from "../db/storage/storage.ts";
import { inJsonList, perEngine } from "../db/postgres/dialect.ts";
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
  /** SQLite: the WAL was checkpointed and truncated, so no copy of the erased data is left in it. */
  walTruncated?: boolean;
  /** PostgreSQL: the touched tables were vacuumed, so no old row version holds the erased data. */
  vacuumed?: boolean;
}

/** One line for the dashboard and the command line. */
export function describeErasure(erased: Erasure): string {
  const who = erased.profileIds.length > 0 ? `profile ${erased.profileIds.join(", ")}` : "the person";
  return (
    `Erased ${who}: ${erased.visitorsUnlinked} visitor link(s) and ${erased.eventsUnlinked} event(s) unlinked; ` +
    `personal data removed from ${erased.paymentsErased} payment(s), ${erased.leadsErased} lead(s) and ${erased.providerEventsErased} raw provider event(s).`
  );
}

export type ErasedRows = Omit<Erasure, "walTruncated" | "vacuumed">;

interface Person extends PersonStrings {
  profileIds: string[];
}

/** Where an erasure runs: the storage, and the group commit its job goes through (SQLite's can truncate its WAL). */
export interface ErasureContext {
  storage: Storage;
  writes: JobQueue & { truncateWal?(): Promise<boolean> };
}

/**
 * Erases the person in one write job, then leaves no old copy behind: SQLite's WAL is truncated;
 * PostgreSQL's touched tables are vacuumed, as it keeps an updated or deleted row's old version until
 * VACUUM removes it. Null when this project holds no such person.
 */
export async function erasePerson(ctx: ErasureContext, projectId: string, key: PersonKey): Promise<Erasure | null> {
  const erased = await ctx.writes.job((tx) => erasePersonJob(tx, projectId, key));
  if (!erased) return null;
  if (ctx.storage.engine === "postgres") {
    await ctx.storage.run(`VACUUM ${ERASED_TABLES}`);
    return { ...erased, vacuumed: true };
  }
  // The WAL is otherwise reused from its start and keeps old frames, the erased data among them, past its current end.
  return { ...erased, walTruncated: (await ctx.writes.truncateWal?.()) ?? false };
}

const ERASED_TABLES = "profiles, profile_visitors, events, payments, checkout_contexts, leads, provider_events";

/**
 * The erasure as a write job, for either engine. On SQLite it deletes with secure_delete ON and then
 * overwrites every free page with zeros (earlier deletes may have left traces there).
 */
export function* erasePersonJob(tx: JobTx, projectId: string, key: PersonKey): JobSteps<ErasedRows | null> {
  yield* tx.onSqlite((db) => db.exec("PRAGMA secure_delete = ON"));
  try {
    const done = yield* eraseInTransaction(tx, projectId, key);
    if (done) yield* tx.onSqlite(scrubFreePages);
    return done;
  } finally {
    yield* tx.onSqlite((db) => db.exec("PRAGMA secure_delete = FAST"));
  }
}

function* findPerson(tx: JobTx, projectId: string, key: PersonKey): JobSteps<Person | null> {
  const profilesWith = (column: "id" | "email", value: string) =>
    tx.all<{ id: string; email: string | null; name: string | null }>(`SELECT id, email, name FROM profiles WHERE project_id = ? AND ${column} = ?`, [projectId, value]);
  const id = "profileId" in key ? key.profileId : "profileIdOrEmail" in key ? key.profileIdOrEmail : null;
  const named = id === null ? [] : yield* profilesWith("id", id.trim());
  let emails: string[];
  if (named.length > 0) {
    emails = named.flatMap((p) => (p.email ? [p.email] : []));
  } else {
    const email = "email" in key ? normalizeEmail(key.email) : "profileIdOrEmail" in key ? normalizeEmail(key.profileIdOrEmail) : null;
    if (!email || !(yield* emailIsKnown(tx, projectId, email))) return null;
    emails = [email];
  }
  const profiles = new Map(named.map((p) => [p.id, p]));
  for (const email of emails) for (const p of yield* profilesWith("email", email)) profiles.set(p.id, p);
  return {
    profileIds: [...profiles.keys()],
    emails,
    names: [...new Set([...profiles.values()].flatMap((p) => (p.name ? [p.name] : [])))],
  };
}

const EMAIL_IS_KNOWN = perEngine(
  (engine) =>
    `SELECT EXISTS (SELECT 1 FROM profiles ${engine === "sqlite" ? "INDEXED BY profiles_email " : ""}WHERE project_id = ? AND email = ?)
       OR EXISTS (SELECT 1 FROM payments WHERE project_id = ? AND customer_email = ?)
       OR EXISTS (SELECT 1 FROM checkout_contexts WHERE project_id = ? AND customer_email = ?)
       OR EXISTS (SELECT 1 FROM leads WHERE project_id = ? AND lower(trim(email)) = ?) AS found`,
);

function* emailIsKnown(tx: JobTx, projectId: string, email: string): JobSteps<boolean> {
  const row = yield* tx.get<{ found: number | boolean }>(EMAIL_IS_KNOWN[tx.engine], [projectId, email, projectId, email, projectId, email, projectId, email]);
  return Boolean(row?.found);
}

const inList = (values: readonly string[]) => JSON.stringify(values);

function* eraseInTransaction(tx: JobTx, projectId: string, key: PersonKey): JobSteps<ErasedRows | null> {
  const person = yield* findPerson(tx, projectId, key);
  if (!person) return null;
  const { profileIds, emails } = person;
  const ofProfiles = inJsonList(tx.engine, "profile_id");
  const visitorIds = (yield* tx.all<{ visitor_id: string }>(`SELECT DISTINCT visitor_id FROM profile_visitors WHERE project_id = ? AND ${ofProfiles}`, [projectId, inList(profileIds)])).map(
    (row) => row.visitor_id,
  );

  const eventsUnlinked = yield* eraseFromEvents(tx, projectId, person, visitorIds);
  const visitorsUnlinked = (yield* tx.run(`DELETE FROM profile_visitors WHERE project_id = ? AND ${ofProfiles}`, [projectId, inList(profileIds)])).changes;
  yield* tx.note(notePersonsChanged, projectId);
  yield* tx.run(`DELETE FROM profiles WHERE project_id = ? AND ${inJsonList(tx.engine, "id")}`, [projectId, inList(profileIds)]);
  const paymentIds = yield* eraseFromPayments(tx, projectId, person);
  yield* eraseFromCheckoutContexts(tx, projectId, person);
  const leadsErased = (yield* tx.run(`UPDATE leads SET email = NULL, name = NULL WHERE project_id = ? AND ${inJsonList(tx.engine, "lower(trim(email))")}`, [projectId, inList(emails)]))
    .changes;
  const providerEventsErased = yield* eraseFromProviderEvents(tx, projectId, person, paymentIds);
  return { profileIds, visitorsUnlinked, eventsUnlinked, paymentsErased: paymentIds.length, leadsErased, providerEventsErased };
}

/** The person's events lose their profile id, and their props the person's details; returns how many were unlinked. */
function* eraseFromEvents(tx: JobTx, projectId: string, person: Person, visitorIds: string[]): JobSteps<number> {
  const ofProfiles = inJsonList(tx.engine, "profile_id");
  const events = yield* tx.all<{ id: number; props: string | null }>(
    `SELECT id, props FROM events WHERE project_id = ? AND ${inJsonList(tx.engine, "visitor_id")} AND props IS NOT NULL
     UNION SELECT id, props FROM events WHERE project_id = ? AND ${ofProfiles} AND props IS NOT NULL`,
    [projectId, inList(visitorIds), projectId, inList(person.profileIds)],
  );
  for (const event of events) {
    const props = erasePersonFromPayload(event.props!, person);
    if (props !== event.props) yield* tx.run("UPDATE events SET props = ? WHERE id = ?", [props, event.id]);
  }
  // People counts read visits' profiles from windows kept per hour: the hours changed are read again.
  const hours = yield* tx.all<{ ts: number }>(`SELECT DISTINCT ts / 3600000 * 3600000 AS ts FROM events WHERE project_id = ? AND ${ofProfiles}`, [projectId, inList(person.profileIds)]);
  for (const { ts } of hours) yield* tx.note(noteWrite, projectId, ts);
  return (yield* tx.run(`UPDATE events SET profile_id = NULL WHERE project_id = ? AND ${ofProfiles}`, [projectId, inList(person.profileIds)])).changes;
}

/** The person's payments keep amounts and attribution, and lose email, profile and the person in metadata, description and explanation. */
function* eraseFromPayments(tx: JobTx, projectId: string, person: Person): JobSteps<string[]> {
  const payments = yield* tx.all<{ id: string; metadata: string; description: string; explanation: string; mismatches: string; occurred_at: number }>(
    `SELECT id, metadata, description, explanation, mismatches, occurred_at FROM payments WHERE project_id = ?
       AND (${inJsonList(tx.engine, "customer_email")} OR ${inJsonList(tx.engine, "profile_id")})`,
    [projectId, inList(person.emails), inList(person.profileIds)],
  );
  for (const p of payments) {
    yield* tx.run("UPDATE payments SET customer_email = NULL, profile_id = NULL, metadata = ?, description = ?, explanation = ?, mismatches = ? WHERE id = ?", [
      erasePersonFromPayload(p.metadata, person),
      erasePersonFromText(p.description, person),
      erasePersonFromExplanation(p.explanation, person, person.profileIds),
      erasePersonFromPayload(p.mismatches, person),
      p.id,
    ]);
    // A sale's payer is read from its window: that hour is read again.
    yield* tx.note(noteWrite, projectId, p.occurred_at);
  }
  return payments.map((p) => p.id);
}

function* eraseFromCheckoutContexts(tx: JobTx, projectId: string, person: Person): JobSteps<void> {
  const contexts = yield* tx.all<{ provider: string; subscription_id: string; metadata: string }>(
    `SELECT provider, subscription_id, metadata FROM checkout_contexts WHERE project_id = ? AND ${inJsonList(tx.engine, "customer_email")}`,
    [projectId, inList(person.emails)],
  );
  for (const c of contexts) {
    yield* tx.run("UPDATE checkout_contexts SET customer_email = NULL, metadata = ? WHERE project_id = ? AND provider = ? AND subscription_id = ?", [
      erasePersonFromPayload(c.metadata, person),
      projectId,
      c.provider,
      c.subscription_id,
    ]);
  }
}

const PAYLOAD_NAMES = perEngine((engine) => `SELECT id, payload FROM provider_events WHERE project_id = ? AND ${engine === "sqlite" ? "instr" : "strpos"}(lower(payload), ?) > 0`);

/** Raw payloads of the person's payments, and any other payload that names their email (a customer update, a subscription checkout). */
function* eraseFromProviderEvents(tx: JobTx, projectId: string, person: Person, paymentIds: string[]): JobSteps<number> {
  const byPayment = yield* tx.all<{ id: number; payload: string }>(
    `SELECT e.id, e.payload FROM provider_events e JOIN provider_event_payments p ON p.event_row = e.id
     WHERE e.project_id = ? AND ${inJsonList(tx.engine, "p.payment_id")}`,
    [projectId, inList(paymentIds)],
  );
  const byEmail: { id: number; payload: string }[] = [];
  for (const email of person.emails) byEmail.push(...(yield* tx.all<{ id: number; payload: string }>(PAYLOAD_NAMES[tx.engine], [projectId, email])));
  const events = new Map([...byPayment, ...byEmail].map((e) => [e.id, e.payload]));
  for (const [id, payload] of events) yield* tx.run("UPDATE provider_events SET payload = ? WHERE id = ?", [erasePersonFromPayload(payload, person), id]);
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
