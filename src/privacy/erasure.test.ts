// Erasing a person (SPEC §10, issue 16 item 11) through the API on a real server: gone from every
// place it was stored, explanations included: on SQLite from the raw bytes of the database file and
// its WAL, on PostgreSQL from every table (erasure-engines.test.ts covers its VACUUM); counts, amounts
// and attribution stay.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../testing/harness.ts";
import { checkoutSession, sendStripe, stripeEvent, uid } from "../payments/testing.ts";
import { userWithRole } from "../dashboard/test-client.ts";
import { everyRowAsText, sqliteFilesAsText } from "../testing/stored.ts";

const SECRET = "whsec_test_bantico_erasure";
const UA = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const EMAIL = "buyer.two@example.com";
const NAME = "Bea Twofold";
const TRAIT = "violet-tulips-4417";
const OTHER_EMAIL = "other.person@example.com";
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  expect((await server.api("/api/v1/integrations/stripe", { method: "PUT", json: { webhookSecret: SECRET } })).status).toBe(200);
});
afterAll(() => server.close());

async function visitWithCampaign(campaign: string): Promise<string> {
  const visitorId = uid("v").replace(/_/g, "");
  const response = await fetch(`${server.url}/api/collect`, {
    method: "POST",
    body: JSON.stringify({ t: server.project.token, n: "page_view", u: `https://shop.example/?utm_source=newsletter&utm_campaign=${campaign}`, v: visitorId }),
    headers: { "content-type": "text/plain", "user-agent": UA },
  });
  expect(response.status).toBe(200);
  return visitorId;
}

async function identify(id: string, email: string, visitorId: string, name: string, traits: Record<string, unknown>) {
  expect((await server.api("/api/v1/identify", { method: "POST", json: { id, email, name, traits, visitorId } })).status).toBe(200);
}

/** A person's whole footprint: a visit, an identify with traits, an event naming them, a Stripe checkout, an API payment, a lead. */
async function seedPerson(id: string, email: string, name: string, campaign: string, phone: string, street: string) {
  const visitorId = await visitWithCampaign(campaign);
  await identify(id, email, visitorId, name, { favourite: `${TRAIT}-${id}` });
  await fetch(`${server.url}/api/collect`, {
    method: "POST",
    body: JSON.stringify({ t: server.project.token, n: "newsletter_signup", u: "https://shop.example/", v: visitorId, p: { email, plan: "pro" } }),
    headers: { "content-type": "text/plain", "user-agent": UA },
  });
  const session = checkoutSession({
    created: Math.floor(Date.now() / 1000),
    customer_details: { email: email.toUpperCase(), name, phone, address: { city: "Leeds", line1: street, country: "GB" } },
    metadata: { note: `gift wrap, from ${name}` },
  });
  expect((await sendStripe(server.url, server.project.id, stripeEvent("checkout.session.completed", session), SECRET)).status).toBe(200);
  const apiPayment = await server.api("/api/v1/payments", { method: "POST", json: { transactionId: uid("txn"), amount: 1500, currency: "EUR", email, metadata: { contact: email } } });
  expect(apiPayment.status).toBe(201);
  await server.storage.run("INSERT INTO leads (project_id, lead_id, name, email, company, created_at) VALUES (?, ?, ?, ?, 'Twofold Ltd', 0)", [server.project.id, `lead_${id}`, name, email]);
}

interface ApiPayment {
  id: string;
  email: string | null;
  amount: number;
  attribution: { method: string; campaignId: string | null; explanation: string[] };
}

async function paymentsOf(ids: string[]): Promise<ApiPayment[]> {
  const { payments } = (await (await server.api("/api/v1/payments?limit=100")).json()) as { payments: ApiPayment[] };
  return payments.filter((p) => ids.includes(p.id));
}

/**
 * Everything the database holds, lower-cased: on SQLite the file and its WAL as bytes on disk, for a
 * search no SQL can hide from; on PostgreSQL every row of every table as text.
 */
async function stored(): Promise<string> {
  const { storage, config } = server.instance.ctx;
  return (storage.engine === "sqlite" ? sqliteFilesAsText(config.dataDir) : await everyRowAsText(storage)).toLowerCase();
}

describe("erasing a person", () => {
  test("DELETE /api/v1/profiles?email= leaves no email, name or trait anywhere, explanations and stored bytes included; counts and amounts stay", async () => {
    await seedPerson("user_v2", EMAIL, NAME, "spring", "+44 20 7946 0123", "1 Erasure Row");
    await seedPerson("user_v3", OTHER_EMAIL, "Otto Keeper", "autumn", "+44 20 7946 0999", "9 Keeper Lane");
    const paymentIds = (await server.storage.all<{ id: string }>("SELECT id FROM payments WHERE project_id = ? AND customer_email = ?", [server.project.id, EMAIL])).map(
      (p) => p.id,
    );
    expect(paymentIds).toHaveLength(2);
    const before = await paymentsOf(paymentIds);
    expect(before.map((p) => p.attribution.method)).toEqual(["identify_email", "identify_email"]);
    expect(before.flatMap((p) => p.attribution.explanation).join(" ")).toContain(`The customer's email ${EMAIL} matches profile user_v2`);
    const summaryBefore = await (await server.api("/api/v1/reports/summary")).json();
    // Into the file, for the erasure to find it there too and not only in the WAL.
    if (server.storage.engine === "sqlite") server.instance.ctx.db.query("PRAGMA wal_checkpoint(PASSIVE)").get();
    expect((await stored()).includes(EMAIL)).toBe(true);

    const response = await server.api(`/api/v1/profiles?email=${encodeURIComponent(" Buyer.Two@Example.com ")}`, { method: "DELETE" });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      profileIds: ["user_v2"],
      visitorsUnlinked: 1,
      eventsUnlinked: expect.any(Number),
      paymentsErased: 2,
      leadsErased: 1,
      providerEventsErased: 1,
      ...(server.storage.engine === "sqlite" ? { walTruncated: true } : { vacuumed: true }),
    });

    const after = await paymentsOf(paymentIds);
    expect(after.map((p) => [p.email, p.amount, p.attribution.method, p.attribution.campaignId])).toEqual(before.map((p) => [null, p.amount, "identify_email", "spring"]));
    const explanations = after.flatMap((p) => p.attribution.explanation).join(" ");
    expect(explanations).toContain("The customer's email [erased] matches profile [erased]");
    expect(explanations.toLowerCase()).not.toContain("buyer.two");
    expect(await (await server.api("/api/v1/reports/summary")).json()).toEqual(summaryBefore);

    const admin = await userWithRole(server, "admin");
    for (const id of paymentIds) {
      const page = (await (await admin.get(`/dashboard/${server.project.id}/payments/${id}`)).text()).toLowerCase();
      expect(page).toContain("[erased]");
      for (const secret of [EMAIL, NAME.toLowerCase(), "7946 0123", "erasure row"]) expect(page.includes(secret)).toBe(false);
    }
    const profilesPage = await (await admin.get(`/dashboard/${server.project.id}/profiles`)).text();
    expect(profilesPage).not.toContain("user_v2");

    const bytes = await stored();
    const left = [EMAIL, NAME.toLowerCase(), `${TRAIT}-user_v2`, "7946 0123", "erasure row"].filter((secret) => bytes.includes(secret));
    expect(left).toEqual([]);
    expect([OTHER_EMAIL, "otto keeper", `${TRAIT}-user_v3`, "7946 0999", "keeper lane"].filter((kept) => bytes.includes(kept))).toHaveLength(5);
  });

  test("a person nobody holds answers 404, a missing email 400; DELETE /profiles/{id} erases by profile id", async () => {
    expect((await server.api(`/api/v1/profiles?email=${encodeURIComponent(EMAIL)}`, { method: "DELETE" })).status).toBe(404);
    expect((await server.api("/api/v1/profiles?email=nobody%40example.com", { method: "DELETE" })).status).toBe(404);
    const missing = await server.api("/api/v1/profiles", { method: "DELETE" });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("invalid_request");
    expect((await server.api("/api/v1/profiles/nobody", { method: "DELETE" })).status).toBe(404);

    const visitorId = await visitWithCampaign("winter");
    await identify("user 4/ä", "four@example.com", visitorId, "Quentin Four", {});
    const byId = await server.api(`/api/v1/profiles/${encodeURIComponent("user 4/ä")}`, { method: "DELETE" });
    expect(byId.status).toBe(200);
    expect(((await byId.json()) as { profileIds: string[] }).profileIds).toEqual(["user 4/ä"]);
    expect((await stored()).includes("four@example.com")).toBe(false);
    expect((await server.api("/api/v1/profiles?email=four%40example.com", { method: "DELETE" })).status).toBe(404);
  });

  test("an API key erases only in its own project", async () => {
    const otherProject = await (await import("../projects/service.ts")).createProject(server.storage, { name: "Elsewhere" });
    await server.storage.run("INSERT INTO profiles (project_id, id, email, name, created_at, updated_at) VALUES (?, 'user_x', 'cross@example.com', 'Cross', 0, 0)", [otherProject.id]);
    expect((await server.api("/api/v1/profiles/user_x", { method: "DELETE" })).status).toBe(404);
    expect((await server.api("/api/v1/profiles?email=cross%40example.com", { method: "DELETE" })).status).toBe(404);
    expect(await server.storage.get("SELECT email FROM profiles WHERE project_id = ? AND id = 'user_x'", [otherProject.id])).toEqual({ email: "cross@example.com" });
  });
});
