// Per-project membership, walked over every dashboard route the router knows: another project's pages,
// exports and htmx fragments answer 404 to a member, and a viewer's writes all fail and change nothing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../testing/harness.ts";
import type { Storage } from "../db/storage/storage.ts";
import { createProject, type Project } from "../projects/service.ts";
import { createApiKey } from "../auth/api-keys.ts";
import { createUser } from "../auth/users.ts";
import { dashboardRoutes } from "./index.ts";
import { signIn, userWithRole, type DashboardClient } from "./test-client.ts";

const PASSWORD = "correct horse battery";

/** Ids of real things in a project, to put into each route's path parameters. */
interface Seeded {
  project: Project;
  params: Record<string, string>;
}

let server: TestServer;
let a: Seeded;
let b: Seeded;
let owner: DashboardClient;

async function seed(project: Project, key: string, ownerId: string): Promise<Seeded> {
  const api = (path: string, json: unknown) =>
    fetch(`${server.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(json) });
  const link = (await (await api("/api/v1/links", { destinationUrl: "https://shop.example/", campaignId: "spring", source: "news", medium: "email", content: "hero", leadId: "lead_1" })).json()) as { linkId: string };
  const payment = (await (await api("/api/v1/payments", { transactionId: `tx_${project.id}`, amount: 4900, currency: "USD", email: "buyer@example.com" })).json()) as { id: string };
  await server.storage.run("INSERT INTO profiles (project_id, id, email, name, created_at, updated_at) VALUES (?, 'user_1', 'ada@example.com', 'Ada', 0, 0)", [project.id]);
  const keyId = (await server.storage.get<{ id: string }>("SELECT id FROM api_keys WHERE project_id = ?", [project.id]))!.id;
  return {
    project,
    params: { linkId: link.linkId, paymentId: payment.id, profileId: "user_1", keyId, userId: ownerId, provider: "stripe", key: "spring", "*": "anything/else" },
  };
}

/** What a write could change in a project (and the team), as one comparable string. */
async function snapshot(storage: Storage, projectId: string): Promise<string> {
  const rows = (sql: string) => storage.all(sql, [projectId]);
  return JSON.stringify({
    project: await rows("SELECT * FROM projects WHERE id = ?"),
    links: await rows("SELECT * FROM links WHERE project_id = ? ORDER BY id"),
    keys: await rows("SELECT id, name, revoked_at FROM api_keys WHERE project_id = ? ORDER BY id"),
    integrations: await rows("SELECT * FROM integrations WHERE project_id = ? ORDER BY provider"),
    profiles: await rows("SELECT * FROM profiles WHERE project_id = ? ORDER BY id"),
    payments: await rows("SELECT id, customer_email FROM payments WHERE project_id = ? ORDER BY id"),
    members: await rows("SELECT * FROM project_members WHERE project_id = ? ORDER BY user_id"),
    users: await storage.all("SELECT id, email, role, every_project FROM users ORDER BY id"),
  });
}

/** Every route under /dashboard/{projectId}, enumerated from the router itself, with real ids filled in. */
function everyRoute(seeded: Seeded): { method: string; path: string }[] {
  const routes = dashboardRoutes(server.instance.ctx).router.projectRoutes();
  return routes.map(({ method, subPath }) => ({
    method,
    path: `/dashboard/${seeded.project.id}${subPath.replace(/:(\w+)|\*/g, (whole, name: string | undefined) => encodeURIComponent(seeded.params[name ?? "*"] ?? whole).replace(/%2F/g, "/"))}`,
  }));
}

/** A form that would do something on any of the routes: every field some write reads. */
const WRITE_FIELDS = {
  name: "Changed by someone who may not",
  destinationUrl: "https://evil.example/",
  slug: "hijacked",
  currency: "EUR",
  timezone: "Europe/Berlin",
  lookbackDays: "7",
  pricingPathPattern: "/x*",
  allowedHostnames: "evil.example",
  email: "intruder@example.com",
  password: PASSWORD,
  role: "admin",
  scope: "project",
  profile: "ada@example.com",
  credential: "rk_test_intruder",
  webhookSecret: "whsec_intruder",
};

function request(client: DashboardClient, method: string, path: string, htmx: boolean): Promise<Response> {
  const headers: Record<string, string> = htmx ? { "hx-request": "true" } : {};
  if (method === "GET") return client.get(path, headers);
  const form = new URLSearchParams({ ...WRITE_FIELDS, _csrf: client.csrfToken });
  return fetch(`${server.url}${path}`, { method, body: form, redirect: "manual", headers: { cookie: client.cookie, ...headers } });
}

async function member(projectId: string, role: "admin" | "viewer"): Promise<DashboardClient> {
  const email = `${role}-of-${projectId}-${crypto.randomUUID().slice(0, 6)}@example.com`;
  await createUser(server.instance.ctx.storage, { email, password: PASSWORD, role, projectId });
  return signIn(server, email, PASSWORD);
}

beforeAll(async () => {
  server = await startTestServer();
  owner = await userWithRole(server, "owner");
  const ownerId = (await server.storage.get<{ id: string }>("SELECT id FROM users WHERE email = ?", [owner.email]))!.id;
  const other = await createProject(server.instance.ctx.storage, { name: "Other founder's project" });
  const otherKey = (await createApiKey(server.instance.ctx.storage, other.id, "tests")).key;
  a = await seed(server.project, server.apiKey, ownerId);
  b = await seed(other, otherKey, ownerId);
});
afterAll(() => server.close());

describe("per-project membership", () => {
  test("the router has routes of every kind to walk: pages, fragments, exports and writes", () => {
    const paths = everyRoute(b).map((r) => `${r.method} ${r.path}`);
    expect(paths.length).toBeGreaterThan(30);
    for (const part of ["GET /dashboard/", "/export/payments.csv", "/live/feed", "/install/check", "POST /dashboard/", "/settings/team"]) {
      expect(paths.some((p) => p.includes(part))).toBe(true);
    }
  });

  test("an admin of one project gets 404 on every route of another project, as a page and as an htmx fragment, and changes nothing", async () => {
    const intruder = await member(a.project.id, "admin");
    const before = await snapshot(server.storage, b.project.id);
    const answers: string[] = [];
    for (const { method, path } of everyRoute(b)) {
      for (const htmx of [false, true]) {
        const response = await request(intruder, method, path, htmx);
        answers.push(`${method} ${path}${htmx ? " (htmx)" : ""} → ${response.status}`);
        const body = await response.text();
        expect(body).not.toContain(b.project.name);
        expect(body).not.toContain(b.project.token);
      }
    }
    expect(answers.filter((line) => !line.endsWith("→ 404"))).toEqual([]);
    expect(await snapshot(server.storage, b.project.id)).toBe(before);
  }, 60_000);

  test("a member sees only their projects: the switcher, /dashboard and the pages of their own project", async () => {
    const viewer = await member(a.project.id, "viewer");
    const overview = await viewer.get(`/dashboard/${a.project.id}`);
    expect(overview.status).toBe(200);
    const html = await overview.text();
    expect(html).not.toContain(b.project.id);
    expect(html).not.toContain(b.project.name);
    // The project looked at last is another one: /dashboard still opens one of the member's.
    const entry = await viewer.get("/dashboard", { cookie: `${viewer.cookie}; bantico_project=${b.project.id}` });
    expect(entry.headers.get("location")).toBe(`/dashboard/${a.project.id}`);
    expect(await (await viewer.get("/account")).text()).toContain(`<strong>viewer of ${a.project.name}</strong>`);
    const csv = await viewer.get(`/dashboard/${a.project.id}/export/payments.csv?range=7d`);
    expect(csv.status).toBe(200);
    expect(await csv.text()).toContain("buyer@example.com");
  });

  test("a viewer, of one project or of every project, can read but no write on any route succeeds or changes anything", async () => {
    for (const viewer of [await member(a.project.id, "viewer"), await userWithRole(server, "viewer")]) {
      const before = await snapshot(server.storage, a.project.id);
      const writes: string[] = [];
      const reads: string[] = [];
      for (const { method, path } of everyRoute(a)) {
        for (const htmx of [false, true]) {
          const response = await request(viewer, method, path, htmx);
          const line = `${method} ${path}${htmx ? " (htmx)" : ""} → ${response.status}`;
          if (method === "GET") reads.push(line);
          else writes.push(line);
        }
      }
      expect(writes.length).toBeGreaterThan(10);
      expect(writes.filter((line) => !line.endsWith("→ 403"))).toEqual([]);
      // Reading works (forms that only admins see, like a new link, answer 403; unknown paths 404).
      expect(reads.filter((line) => !/→ (200|403|404)$/.test(line))).toEqual([]);
      expect(reads.filter((line) => line.endsWith("→ 200")).length).toBeGreaterThan(20);
      expect(await snapshot(server.storage, a.project.id)).toBe(before);
    }
  }, 60_000);

  test("the owner sees every project; a project's admin adds a member, who then sees that project only", async () => {
    for (const seeded of [a, b]) expect((await owner.get(`/dashboard/${seeded.project.id}/settings`)).status).toBe(200);
    const admin = await member(a.project.id, "admin");
    // A project's admin changes that project, not the instance: no new projects.
    expect(await (await admin.get(`/dashboard/${a.project.id}`)).text()).not.toContain('href="/projects/new"');
    expect((await admin.post("/projects/new", { name: "Mine now" })).status).toBe(403);
    const added = await admin.post(`/dashboard/${a.project.id}/settings/team`, { email: "new.member@example.com", password: PASSWORD, role: "viewer", scope: "project" });
    expect(added.status).toBe(303);
    const newcomer = await signIn(server, "new.member@example.com", PASSWORD);
    expect((await newcomer.get("/dashboard")).headers.get("location")).toBe(`/dashboard/${a.project.id}`);
    expect((await newcomer.get(`/dashboard/${b.project.id}`)).status).toBe(404);
    const settings = await (await admin.get(`/dashboard/${a.project.id}/settings/team`)).text();
    expect(settings).toContain("new.member@example.com");
    expect(settings).toContain("This project");
    // The owner adds the same person to the other project: one account, two memberships.
    expect((await owner.post(`/dashboard/${b.project.id}/settings/team`, { email: "new.member@example.com", role: "admin", scope: "project" })).status).toBe(303);
    expect((await newcomer.get(`/dashboard/${b.project.id}`)).status).toBe(200);
    // Removed from both, the account goes too, and its session with it.
    const newcomerId = (await server.storage.get<{ id: string }>("SELECT id FROM users WHERE email = 'new.member@example.com'"))!.id;
    expect((await admin.post(`/dashboard/${a.project.id}/settings/team/${newcomerId}/remove`)).status).toBe(303);
    expect((await newcomer.get(`/dashboard/${a.project.id}`)).status).toBe(404);
    expect((await owner.post(`/dashboard/${b.project.id}/settings/team/${newcomerId}/remove`)).status).toBe(303);
    expect((await newcomer.get(`/dashboard/${b.project.id}`)).status).toBe(303);
  }, 30_000);
});
