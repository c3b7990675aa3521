// Settings: validation next to each field, roles, API keys shown once, team, privacy deletion, isolation.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../testing/harness.ts";
import { createProject, getProject } from "../projects/service.ts";
import { createApiKey } from "../auth/api-keys.ts";
import { findUserByEmail } from "../auth/users.ts";
import { signIn, userWithRole, type DashboardClient } from "./test-client.ts";

let server: TestServer;
let owner: DashboardClient;
let admin: DashboardClient;
let viewer: DashboardClient;
let settingsPath: string;

beforeAll(async () => {
  server = await startTestServer();
  owner = await userWithRole(server, "owner");
  admin = await userWithRole(server, "admin");
  viewer = await userWithRole(server, "viewer");
  settingsPath = `/dashboard/${server.project.id}/settings`;
});
afterAll(() => server.close());

const userId = async (email: string) => (await findUserByEmail(server.storage, email))!.id;

const validSettings = {
  name: "Renamed",
  allowedHostnames: "https://Example.com/\n*.example.org",
  currency: "eur",
  timezone: "Europe/Berlin",
  lookbackDays: "30",
  pricingPathPattern: "/plans*",
};

describe("project settings", () => {
  test("an admin saves settings; hostnames pasted as URLs are kept as hostnames", async () => {
    const response = await admin.post(`${settingsPath}/project`, validSettings);
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe(`${settingsPath}?saved=project#project`);
    const project = (await getProject(server.instance.ctx.storage, server.project.id))!;
    expect(project).toMatchObject({ name: "Renamed", currency: "EUR", timezone: "Europe/Berlin", lookbackDays: 30, pricingPathPattern: "/plans*" });
    expect(project.allowedHostnames).toEqual(["example.com", "*.example.org"]);
    const page = await (await admin.get(`${settingsPath}?saved=project`)).text();
    expect(page).toContain("Settings saved.");
  });

  test("every bad field gets its own message and nothing is saved", async () => {
    const before = await getProject(server.instance.ctx.storage, server.project.id);
    const response = await admin.post(`${settingsPath}/project`, {
      name: " ",
      allowedHostnames: "not a host!",
      currency: "EURO",
      timezone: "Mars/Olympus",
      lookbackDays: "-3",
      pricingPathPattern: "pricing",
    });
    expect(response.status).toBe(422);
    const html = await response.text();
    for (const [name, message] of [
      ["name", "Give the project a name."],
      ["allowedHostnames", "is not a hostname"],
      ["currency", "is not an ISO 4217 currency code"],
      ["timezone", "is not a timezone this server knows"],
      ["lookbackDays", "Enter a whole number of days"],
      ["pricingPathPattern", "starts with /"],
    ] as const) {
      expect(html).toMatch(new RegExp(`id="f-${name}-error">[^<]*${message.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}`));
    }
    expect(await getProject(server.instance.ctx.storage, server.project.id)).toEqual(before);
  });

  test("junk a user can type never yields a 500", async () => {
    for (const junk of ["\u0000", "a".repeat(100_000), "%%%", "<script>", "../../etc/passwd", "1e309"]) {
      const response = await admin.post(`${settingsPath}/project`, { ...validSettings, lookbackDays: junk, timezone: junk, currency: junk });
      expect(response.status).toBe(422);
    }
    const noBody = await admin.post(`${settingsPath}/project`, {});
    expect(noBody.status).toBe(422);
  });

  test("a viewer sees settings read-only and cannot change them", async () => {
    const page = await (await viewer.get(settingsPath)).text();
    expect(page).toContain("You are a viewer");
    expect(page).toContain("<fieldset disabled>");
    const response = await viewer.post(`${settingsPath}/project`, { ...validSettings, name: "Viewer was here" });
    expect(response.status).toBe(403);
    expect((await getProject(server.instance.ctx.storage, server.project.id))!.name).not.toBe("Viewer was here");
  });
});

describe("API keys", () => {
  test("a new key is shown once, works against the API, and is listed by prefix only", async () => {
    const response = await admin.post(`${settingsPath}/api-keys`, { name: "backend" });
    expect(response.status).toBe(200);
    const html = await response.text();
    const key = /<code>(bt_live_\w+)<\/code>/.exec(html)![1]!;
    expect(html).toContain("shown only once");
    const api = await fetch(`${server.url}/api/v1/project`, { headers: { authorization: `Bearer ${key}` } });
    expect(api.status).toBe(200);
    const again = await (await admin.get(`${settingsPath}/api-keys`)).text();
    expect(again).not.toContain(key);
    expect(again).toContain(`${key.slice(0, 14)}…`);
  });

  test("revoking a key stops it at the API; a viewer cannot revoke", async () => {
    const { id, key } = await createApiKey(server.instance.ctx.storage, server.project.id, "to revoke");
    expect((await viewer.post(`${settingsPath}/api-keys/${id}/revoke`)).status).toBe(403);
    expect((await viewer.post(`${settingsPath}/api-keys`, { name: "viewer key" })).status).toBe(403);
    const response = await admin.post(`${settingsPath}/api-keys/${id}/revoke`);
    expect(response.status).toBe(303);
    const api = await fetch(`${server.url}/api/v1/project`, { headers: { authorization: `Bearer ${key}` } });
    expect(api.status).toBe(401);
  });

  test("another project's keys are neither listed nor revocable from this project", async () => {
    const other = await createProject(server.instance.ctx.storage, { name: "Other" });
    const { id, prefix, key } = await createApiKey(server.instance.ctx.storage, other.id, "other project key");
    const page = await (await admin.get(`${settingsPath}/api-keys`)).text();
    expect(page).not.toContain(prefix);
    expect(page).not.toContain(other.token);
    const response = await admin.post(`${settingsPath}/api-keys/${id}/revoke`);
    expect(response.status).toBe(404);
    expect((await fetch(`${server.url}/api/v1/project`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
  });
});

describe("team", () => {
  test("the owner adds a teammate who can then sign in with the given role", async () => {
    const response = await owner.post(`${settingsPath}/team`, { email: "new.mate@example.com", password: "initial password", role: "viewer" });
    expect(response.status).toBe(303);
    const mate = await signIn(server, "new.mate@example.com", "initial password");
    expect((await mate.post(`${settingsPath}/project`, validSettings)).status).toBe(403);
  });

  test("adding a teammate validates each field", async () => {
    const response = await owner.post(`${settingsPath}/team`, { email: "fresh.mate@example.com", password: "short", role: "emperor", scope: "every" });
    expect(response.status).toBe(422);
    const html = await response.text();
    expect(html).toContain("at least 8 characters");
    expect(html).toContain("Choose owner, admin or viewer.");
    const again = await owner.post(`${settingsPath}/team`, { email: "new.mate@example.com", password: "initial password", role: "owner", scope: "project" });
    expect(again.status).toBe(422);
    const page = await again.text();
    expect(page).toContain("is already a member of this project");
    expect(page).toContain("An owner holds every project");
  });

  test("an admin manages this project's members; only an owner adds or changes people on every project", async () => {
    const toEvery = await admin.post(`${settingsPath}/team`, { email: "x@example.com", password: "long enough", role: "admin", scope: "every" });
    expect(toEvery.status).toBe(422);
    expect(await toEvery.text()).toContain("Only an owner adds someone to every project.");
    const adminId = await userId(admin.email);
    const promote = await admin.post(`${settingsPath}/team/${adminId}/role`, { role: "owner" });
    expect(promote.status).toBe(409);
    expect((await server.storage.get<{ role: string }>("SELECT role FROM users WHERE id = ?", [adminId]))!.role).toBe("admin");
    expect((await viewer.post(`${settingsPath}/team/${adminId}/remove`)).status).toBe(403);
    expect((await admin.post(`${settingsPath}/team`, { email: "member@example.com", password: "long enough", role: "viewer" })).status).toBe(303);
    const memberId = await userId("member@example.com");
    expect((await admin.post(`${settingsPath}/team/${memberId}/role`, { role: "admin" })).status).toBe(303);
    expect(await server.storage.get("SELECT role FROM project_members WHERE user_id = ?", [memberId])).toEqual({ role: "admin" });
  });

  test("a removed teammate is signed out at once; the last owner cannot be removed or demoted", async () => {
    const leaving = await userWithRole(server, "admin");
    const leavingId = await userId(leaving.email);
    expect((await owner.post(`${settingsPath}/team/${leavingId}/remove`)).status).toBe(303);
    expect((await leaving.get(settingsPath)).status).toBe(303);
    const ownerId = await userId(owner.email);
    const demote = await owner.post(`${settingsPath}/team/${ownerId}/role`, { role: "viewer" });
    expect(demote.status).toBe(409);
    expect(await demote.text()).toContain("The instance needs an owner");
    expect((await owner.post(`${settingsPath}/team/${ownerId}/remove`)).status).toBe(409);
  });
});

describe("signed identify", () => {
  test("an admin sees the identify secret, rotates it with a 24-hour grace for the old one, and can end the grace; a viewer never sees it", async () => {
    const before = (await getProject(server.instance.ctx.storage, server.project.id))!.identifySecret;
    expect(await (await admin.get(`${settingsPath}/tracker`)).text()).toContain(before);
    const viewerPage = await (await viewer.get(`${settingsPath}/tracker`)).text();
    expect(viewerPage).not.toContain(before);
    expect(viewerPage).toContain("Only admins and owners see the identify secret.");
    expect((await viewer.post(`${settingsPath}/identify-secret/rotate`)).status).toBe(403);

    const rotated = await admin.post(`${settingsPath}/identify-secret/rotate`);
    expect(rotated.headers.get("location")).toBe(`${settingsPath}/tracker?saved=identify_rotated#identify`);
    const project = (await getProject(server.instance.ctx.storage, server.project.id))!;
    expect(project.identifySecret).not.toBe(before);
    expect(project.previousIdentifySecret?.secret).toBe(before);
    expect(project.previousIdentifySecret!.validUntil - Date.now()).toBeGreaterThan(23 * 3_600_000);
    const page = await (await admin.get(`${settingsPath}/tracker?saved=identify_rotated`)).text();
    expect(page).toContain(project.identifySecret);
    expect(page).toContain("The secret it replaced still verifies until");

    await admin.post(`${settingsPath}/identify-secret/revoke-previous`);
    expect((await getProject(server.instance.ctx.storage, server.project.id))!.previousIdentifySecret).toBeNull();
    expect(await (await admin.get(`${settingsPath}/tracker`)).text()).not.toContain("The secret it replaced still verifies until");
  });

  test("the verified-only email attribution checkbox is saved with the other settings", async () => {
    await admin.post(`${settingsPath}/project`, { ...validSettings, verifiedEmailAttributionOnly: "on" });
    expect((await getProject(server.instance.ctx.storage, server.project.id))!.verifiedEmailAttributionOnly).toBe(true);
    expect(await (await admin.get(settingsPath)).text()).toMatch(/name="verifiedEmailAttributionOnly"[^>]*checked/);
    await admin.post(`${settingsPath}/project`, validSettings);
    expect((await getProject(server.instance.ctx.storage, server.project.id))!.verifiedEmailAttributionOnly).toBe(false);
  });
});

describe("privacy", () => {
  test("deleting a person's data removes the profile and its links in this project only", async () => {
    const { storage } = server;
    const other = await createProject(storage, { name: "Other site" });
    for (const projectId of [server.project.id, other.id]) {
      await storage.run("INSERT INTO profiles (project_id, id, email, name, created_at, updated_at) VALUES (?, 'user_1', 'ada@example.com', 'Ada', 0, 0)", [projectId]);
      await storage.run("INSERT INTO profile_visitors (project_id, visitor_id, profile_id, identified_at) VALUES (?, 'v1', 'user_1', 0)", [projectId]);
      await storage.run("INSERT INTO events (project_id, ts, name, visitor_id, profile_id) VALUES (?, 1, 'identify', 'v1', 'user_1')", [projectId]);
    }
    const payment = await server.api("/api/v1/payments", { method: "POST", json: { transactionId: "tx_ada", amount: 4900, currency: "EUR", email: "ada@example.com" } });
    expect(payment.status).toBe(201);
    const paymentId = ((await payment.json()) as { id: string }).id;
    await storage.run(
      "INSERT INTO provider_events (project_id, provider, event_id, type, via, received_at, outcome, payment_ids, payload) VALUES (?, 'stripe', 'evt_1', 'checkout.session.completed', 'webhook', 0, 'recorded', ?, ?)",
      [server.project.id, JSON.stringify([paymentId]), JSON.stringify({ customer_details: { email: "Ada@Example.com", name: "Ada" } })],
    );
    const response = await admin.post(`${settingsPath}/privacy/delete-profile`, { profile: " ADA@example.com " });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain(
      "Erased profile user_1: 1 visitor link(s) and 1 event(s) unlinked; personal data removed from 1 payment(s), 0 lead(s) and 1 raw provider event(s).",
    );
    const stored = await storage.get<{ customer_email: string | null; amount: number }>("SELECT customer_email, amount FROM payments WHERE project_id = ?", [server.project.id]);
    expect(stored).toEqual({ customer_email: null, amount: 4900 });
    const raw = (await storage.get<{ payload: string }>("SELECT payload FROM provider_events WHERE project_id = ?", [server.project.id]))!.payload;
    expect(raw).toBe(JSON.stringify({ customer_details: { email: "[erased]", name: "[erased]" } }));
    const count = async (sql: string, projectId: string) => (await storage.get<{ n: number }>(sql, [projectId]))!.n;
    expect(await count("SELECT count(*) AS n FROM profiles WHERE project_id = ?", server.project.id)).toBe(0);
    expect(await count("SELECT count(*) AS n FROM profile_visitors WHERE project_id = ?", server.project.id)).toBe(0);
    expect(await count("SELECT count(*) AS n FROM events WHERE profile_id IS NOT NULL AND project_id = ?", server.project.id)).toBe(0);
    expect(await count("SELECT count(*) AS n FROM profiles WHERE project_id = ?", other.id)).toBe(1);
    expect(await count("SELECT count(*) AS n FROM events WHERE profile_id IS NOT NULL AND project_id = ?", other.id)).toBe(1);
    const unknown = await admin.post(`${settingsPath}/privacy/delete-profile`, { profile: "nobody@example.com" });
    expect(unknown.status).toBe(422);
    expect((await viewer.post(`${settingsPath}/privacy/delete-profile`, { profile: "user_1" })).status).toBe(403);
  });
});

describe("account", () => {
  test("changing the password checks the current one, then signs out the other sessions", async () => {
    const me = await userWithRole(server, "viewer", "changer@example.com");
    const elsewhere = await signIn(server, "changer@example.com", "correct horse battery");
    const wrong = await me.post("/account/password", { currentPassword: "nope", newPassword: "brand new password", confirmPassword: "brand new password" });
    expect(wrong.status).toBe(422);
    expect(await wrong.text()).toContain("This is not your current password.");
    const mismatch = await me.post("/account/password", { currentPassword: "correct horse battery", newPassword: "brand new password", confirmPassword: "brand new passw0rd" });
    expect(await mismatch.text()).toContain("The two new passwords differ.");
    const ok = await me.post("/account/password", { currentPassword: "correct horse battery", newPassword: "brand new password", confirmPassword: "brand new password" });
    expect(ok.status).toBe(200);
    expect((await me.get("/account")).status).toBe(200);
    expect((await elsewhere.get("/account")).status).toBe(303);
    await signIn(server, "changer@example.com", "brand new password");
  });

  test("signing out everywhere else keeps only this browser signed in", async () => {
    const me = await userWithRole(server, "viewer", "traveller@example.com");
    const laptop = await signIn(server, "traveller@example.com", "correct horse battery");
    expect(await (await me.get("/account")).text()).toContain("also signed in on 1 other browser or device");
    const response = await me.post("/account/sign-out-others");
    expect(await response.text()).toContain("Signed out everywhere else.");
    expect((await laptop.get("/account")).status).toBe(303);
    expect(await (await me.get("/account")).text()).toContain("signed in on this browser only");
  });
});

describe("escaping", () => {
  test("a project name, hostname or teammate email with markup is shown as text", async () => {
    const evil = `<img src=x onerror=alert(1)><script>alert(2)</script>`;
    const project = await createProject(server.storage, { name: evil });
    await server.storage.run("UPDATE projects SET allowed_hostnames = ? WHERE id = ?", [JSON.stringify([evil]), project.id]);
    const html = await (await owner.get(`/dashboard/${project.id}/settings`)).text();
    expect(html).not.toContain("<img src=x");
    expect(html).not.toContain("<script>alert");
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
  });
});
