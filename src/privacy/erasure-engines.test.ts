// Erasing a person as one write job, on SQLite and on PostgreSQL: every table that held their email,
// name or traits holds them no more, the other person's rows are untouched, and amounts, counts and
// attribution stay. (erasure.test.ts covers the server, the API and the SQLite file's raw bytes.)
import { afterAll, beforeAll, expect, test } from "bun:test";
import { describeOnEngines, freshDatabase, type TestDatabase } from "../testing/engines.ts";
import { createProject } from "../projects/service.ts";
import { erasePersonJob } from "./erasure.ts";
import type { Engine, Storage } from "../db/storage/storage.ts";

const TABLES = ["profiles", "profile_visitors", "events", "payments", "checkout_contexts", "leads", "provider_events", "provider_event_payments"];

interface Person {
  profileId: string;
  visitorId: string;
  email: string;
  name: string;
  trait: string;
}

const ERASED: Person = { profileId: "user_ada", visitorId: "v_ada", email: "ada.lovelace@example.com", name: "Ada Lovelace", trait: "analytical-engine-1843" };
const KEPT: Person = { profileId: "user_bob", visitorId: "v_bob", email: "bob.keeper@example.com", name: "Bob Keeper", trait: "difference-engine-1822" };
const HOUR = 3_600_000;

/** A person's footprint in every table the erasure reads, written as the product writes it. */
async function seedPerson(storage: Storage, projectId: string, person: Person, amount: number): Promise<void> {
  const { profileId, visitorId, email, name, trait } = person;
  await storage.run("INSERT INTO profiles (project_id, id, email, name, traits, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, 0)", [
    projectId,
    profileId,
    email,
    name,
    JSON.stringify({ favourite: trait }),
  ]);
  await storage.run("INSERT INTO profile_visitors (project_id, visitor_id, profile_id, identified_at) VALUES (?, ?, ?, 0)", [projectId, visitorId, profileId]);
  await storage.run("INSERT INTO events (project_id, ts, name, visitor_id, profile_id, props) VALUES (?, ?, 'newsletter_signup', ?, ?, ?)", [
    projectId,
    5 * HOUR,
    visitorId,
    profileId,
    JSON.stringify({ email, plan: "pro" }),
  ]);
  await storage.run("INSERT INTO events (project_id, ts, name, visitor_id, profile_id) VALUES (?, ?, 'page_view', ?, ?)", [projectId, 6 * HOUR, visitorId, profileId]);
  const paymentId = `pay_${profileId}`;
  await storage.run(
    `INSERT INTO payments (id, project_id, provider, kind, payment_key, customer_email, amount, net, currency, metadata, description, occurred_at, received_at,
       method, campaign_id, profile_id, explanation, attributed_at)
     VALUES (?, ?, 'stripe', 'sale', ?, ?, ?, ?, 'EUR', ?, ?, ?, ?, 'identify_email', 'spring', ?, ?, 0)`,
    [
      paymentId,
      projectId,
      `cs_${profileId}`,
      email,
      amount,
      amount,
      JSON.stringify({ note: `gift wrap, from ${name}` }),
      `Pro plan for ${name}`,
      7 * HOUR,
      7 * HOUR,
      profileId,
      JSON.stringify([`The customer's email ${email} matches profile ${profileId}.`]),
    ],
  );
  await storage.run("INSERT INTO checkout_contexts (project_id, provider, subscription_id, session_id, metadata, customer_email, created_at) VALUES (?, 'stripe', ?, ?, ?, ?, 0)", [
    projectId,
    `sub_${profileId}`,
    `cs_${profileId}`,
    JSON.stringify({ contact: email }),
    email,
  ]);
  await storage.run("INSERT INTO leads (project_id, lead_id, name, email, company, created_at) VALUES (?, ?, ?, ?, 'Engines Ltd', 0)", [projectId, `lead_${profileId}`, name, email]);
  const eventRow = await storage.get<{ id: number }>(
    "INSERT INTO provider_events (project_id, provider, event_id, type, via, received_at, outcome, payload) VALUES (?, 'stripe', ?, 'checkout.session.completed', 'webhook', 0, 'recorded', ?) RETURNING id",
    [projectId, `evt_${profileId}`, JSON.stringify({ data: { object: { id: `cs_${profileId}`, customer_details: { email, name, phone: "+44 20 7946 0123" }, amount_total: amount } } })],
  );
  await storage.run("INSERT INTO provider_event_payments (payment_id, event_row) VALUES (?, ?)", [paymentId, eventRow!.id]);
}

/** Every row of every table the person was in, as text: what a search of the database would find. */
async function everything(storage: Storage): Promise<string> {
  const rows = await Promise.all(TABLES.map((table) => storage.all(`SELECT * FROM ${table}`)));
  return JSON.stringify(rows).toLowerCase();
}

const footprint = (person: Person) => [person.email, person.name.toLowerCase(), person.trait];

describeOnEngines("erasing a person as a write job", (engine: Engine) => {
  let database: TestDatabase;
  let projectId: string;

  beforeAll(async () => {
    database = await freshDatabase(engine);
    projectId = (await createProject(database.storage, { name: "Erasure" })).id;
    await seedPerson(database.storage, projectId, ERASED, 4900);
    await seedPerson(database.storage, projectId, KEPT, 1500);
  });
  afterAll(() => database.close());

  test("by email: gone from every table, the other person untouched, amounts and attribution kept", async () => {
    const { storage, writes } = database;
    const before = await everything(storage);
    expect(footprint(ERASED).every((secret) => before.includes(secret))).toBe(true);

    const erased = await writes.job((tx) => erasePersonJob(tx, projectId, { email: " Ada.Lovelace@Example.com " }));
    expect(erased).toEqual({ profileIds: ["user_ada"], visitorsUnlinked: 1, eventsUnlinked: 2, paymentsErased: 1, leadsErased: 1, providerEventsErased: 1 });

    const after = await everything(storage);
    expect(footprint(ERASED).filter((secret) => after.includes(secret))).toEqual([]);
    expect(footprint(KEPT).filter((kept) => after.includes(kept))).toEqual(footprint(KEPT));
    const payments = await storage.all<{ id: string; amount: number; customer_email: string | null; campaign_id: string; explanation: string }>(
      "SELECT id, amount, customer_email, campaign_id, explanation FROM payments ORDER BY id",
    );
    expect(payments.map((p) => [p.id, p.amount, p.customer_email, p.campaign_id])).toEqual([
      ["pay_user_ada", 4900, null, "spring"],
      ["pay_user_bob", 1500, KEPT.email, "spring"],
    ]);
    expect(JSON.parse(payments[0]!.explanation)).toEqual(["The customer's email [erased] matches profile [erased]."]);
    const events = await storage.all<{ name: string; profile_id: string | null; visitor_id: string }>("SELECT name, profile_id, visitor_id FROM events ORDER BY id");
    expect(events).toEqual([
      { name: "newsletter_signup", profile_id: null, visitor_id: ERASED.visitorId },
      { name: "page_view", profile_id: null, visitor_id: ERASED.visitorId },
      { name: "newsletter_signup", profile_id: KEPT.profileId, visitor_id: KEPT.visitorId },
      { name: "page_view", profile_id: KEPT.profileId, visitor_id: KEPT.visitorId },
    ]);
  });

  test("a person nobody holds erases nothing; by profile id, the profile's email goes with it", async () => {
    const { storage, writes } = database;
    expect(await writes.job((tx) => erasePersonJob(tx, projectId, { email: ERASED.email }))).toBeNull();
    expect(await writes.job((tx) => erasePersonJob(tx, projectId, { profileIdOrEmail: "nobody" }))).toBeNull();
    const erased = await writes.job((tx) => erasePersonJob(tx, projectId, { profileIdOrEmail: KEPT.profileId }));
    expect(erased).toMatchObject({ profileIds: [KEPT.profileId], paymentsErased: 1, leadsErased: 1, providerEventsErased: 1 });
    const after = await everything(storage);
    expect(footprint(KEPT).filter((secret) => after.includes(secret))).toEqual([]);
    expect(await storage.get("SELECT CAST(sum(amount) AS BIGINT) AS total FROM payments")).toEqual({ total: 6400 });
  });
});
