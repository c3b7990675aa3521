// The dashboard shell: setup on first start, sign-in, sessions, CSRF, roles and project isolation.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../testing/harness.ts";
import { createProject } from "../projects/service.ts";
import { hiddenCsrf, signIn, userWithRole, type DashboardClient } from "./test-client.ts";

const setupToken = (server: TestServer) => new URL(server.setupUrl!).searchParams.get("token")!;

describe("first start", () => {
  let server: TestServer;
  beforeAll(async () => (server = await startTestServer()));
  afterAll(() => server.close());

  test("an instance without a user sends every visitor to setup", async () => {
    for (const path of ["/", "/login", "/dashboard"]) {
      const response = await fetch(`${server.url}${path}`, { redirect: "manual" });
      expect(response.status).toBe(303);
      expect(response.headers.get("location")).toBe("/setup");
    }
  });

  const users = () => server.storage.get("SELECT count(*) AS n FROM users");

  test("setup without the one-time link from the log is refused and says where to find the link", async () => {
    expect(server.setupUrl).toMatch(new RegExp(`^${server.url}/setup\\?token=\\w{32}$`));
    for (const path of ["/setup", "/setup?token=", "/setup?token=wrongwrongwrongwrongwrongwrongwr"]) {
      const response = await fetch(`${server.url}${path}`, { redirect: "manual" });
      expect(response.status).toBe(403);
      const body = await response.text();
      expect(body).toContain("bantico setup-link");
      expect(body).toContain("No owner yet: open");
      expect(body).not.toContain('name="password"');
    }
    // A form posted straight at /setup, with a valid pre-session CSRF pair but no token, creates nobody.
    const page = await fetch(server.setupUrl!);
    const cookie = page.headers.getSetCookie()[0]!.split(";")[0]!;
    const csrf = hiddenCsrf(await page.text());
    for (const token of [null, "", "wrongwrongwrongwrongwrongwrongwr"]) {
      const form = new URLSearchParams({ _csrf: csrf, email: "attacker@example.com", password: "long enough pw", projectName: "Mine" });
      if (token !== null) form.set("token", token);
      const response = await fetch(`${server.url}/setup`, { method: "POST", headers: { cookie }, body: form, redirect: "manual" });
      expect(response.status).toBe(403);
      expect(response.headers.getSetCookie().join()).not.toContain("bantico_session");
    }
    expect(await users()).toEqual({ n: 0 });
  });

  test("setup refuses bad fields with a message next to each, and stores nothing", async () => {
    const page = await fetch(server.setupUrl!);
    const cookie = page.headers.getSetCookie()[0]!.split(";")[0]!;
    const response = await fetch(`${server.url}/setup`, {
      method: "POST",
      headers: { cookie },
      body: new URLSearchParams({ _csrf: hiddenCsrf(await page.text()), token: setupToken(server), email: "not-an-email", password: "short", projectName: "" }),
      redirect: "manual",
    });
    expect(response.status).toBe(422);
    const body = await response.text();
    expect(body).toContain('id="f-email-error"');
    expect(body).toContain("is not an email address");
    expect(body).toContain("at least 8 characters");
    expect(body).toContain("Give the project a name");
    expect(await users()).toEqual({ n: 0 });
  });

  test("setup creates the owner and a project, signs in and shows both snippet forms with the project token", async () => {
    const page = await fetch(server.setupUrl!);
    const cookie = page.headers.getSetCookie()[0]!.split(";")[0]!;
    const response = await fetch(`${server.url}/setup`, {
      method: "POST",
      headers: { cookie },
      body: new URLSearchParams({ _csrf: hiddenCsrf(await page.text()), token: setupToken(server), email: "Founder@Example.com ", password: "long enough pw", projectName: "Acme", timezone: "Not/AZone" }),
      redirect: "manual",
    });
    expect(response.status).toBe(303);
    const location = response.headers.get("location")!;
    expect(location).toMatch(/^\/dashboard\/prj_\w+\/install$/);
    const setCookie = response.headers.getSetCookie().join("\n");
    expect(setCookie).toMatch(/bantico_session=\w+; Path=\/; HttpOnly; SameSite=Lax/);
    expect(setCookie).not.toContain("Secure");
    const session = /bantico_session=(\w+)/.exec(setCookie)![1];
    const install = await fetch(`${server.url}${location}`, { headers: { cookie: `bantico_session=${session}` } });
    const html = await install.text();
    const projectId = location.split("/")[2]!;
    const token = (await server.storage.get<{ token: string }>("SELECT token FROM projects WHERE id = ?", [projectId]))!.token;
    expect(html).toContain(`data-token=&quot;${token}&quot; data-persist`);
    expect(html).toContain(`window.BANTICO_TOKEN = &quot;${token}&quot;;`);
    expect(html).toContain(`${server.url}/bantico.js`);
    expect(html).toContain("Waiting for the first event");
    // A timezone the server does not know is ignored: the project keeps UTC.
    expect(html).toContain("timezone (UTC)");
    // A second setup is refused, even with the link that worked once: the instance has its owner.
    for (const path of [server.setupUrl!, `${server.url}/setup`]) {
      const again = await fetch(path, { redirect: "manual" });
      expect(again.headers.get("location")).toBe("/login");
    }
    expect(await server.storage.get("SELECT count(*) AS n FROM setup_token")).toEqual({ n: 0 });
  });

  test("the install check turns green once the project's first event is stored", async () => {
    const owner = await signIn(server, "founder@example.com", "long enough pw");
    const projectId = (await server.storage.get<{ id: string }>("SELECT id FROM projects WHERE name = 'Acme'"))!.id;
    const before = await (await owner.get(`/dashboard/${projectId}/install/check`, { "hx-request": "true" })).text();
    expect(before).toContain('hx-trigger="every 2s"');
    await server.storage.run("INSERT INTO events (project_id, ts, name, path) VALUES (?, ?, 'page_view', '/pricing')", [projectId, Date.now()]);
    const after = await (await owner.get(`/dashboard/${projectId}/install/check`, { "hx-request": "true" })).text();
    expect(after).toContain("Receiving events");
    expect(after).toContain("/pricing");
    expect(after).not.toContain("hx-trigger");
  });
});

describe("signed-in access", () => {
  let server: TestServer;
  let owner: DashboardClient;
  let viewer: DashboardClient;
  beforeAll(async () => {
    server = await startTestServer();
    owner = await userWithRole(server, "owner");
    viewer = await userWithRole(server, "viewer");
  });
  afterAll(() => server.close());

  test("a page without a session redirects to login and keeps where the reader was going", async () => {
    const response = await fetch(`${server.url}/dashboard/${server.project.id}/links?range=7d`, { redirect: "manual" });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe(`/login?next=${encodeURIComponent(`/dashboard/${server.project.id}/links?range=7d`)}`);
  });

  test("signing in returns to the page asked for, never to another site", async () => {
    const loginPage = await fetch(`${server.url}/login?next=/dashboard/${server.project.id}/links`);
    const cookie = loginPage.headers.getSetCookie()[0]!.split(";")[0]!;
    const csrf = hiddenCsrf(await loginPage.text());
    for (const [next, expected] of [
      [`/dashboard/${server.project.id}/links`, `/dashboard/${server.project.id}/links`],
      ["//evil.example/x", "/dashboard"],
      ["https://evil.example/", "/dashboard"],
    ] as const) {
      const response = await fetch(`${server.url}/login`, {
        method: "POST",
        headers: { cookie },
        body: new URLSearchParams({ _csrf: csrf, email: owner.email, password: "correct horse battery", next }),
        redirect: "manual",
      });
      expect(response.headers.get("location")).toBe(expected);
    }
  });

  test("the layout offers every section, the project switcher and the date range", async () => {
    const other = await createProject(server.instance.ctx.storage, { name: "Second site" });
    const html = await (await owner.get(`/dashboard/${server.project.id}/links?range=7d&source=newsletter`)).text();
    for (const label of ["Overview", "Links", "Campaigns", "Sources", "Mediums", "Contents", "Leads", "Funnel", "Payments", "Profiles", "Live", "Settings"]) {
      expect(html).toContain(`>${label}</a>`);
    }
    expect(html).toContain(`href="/dashboard/${other.id}/links"`);
    expect(html).toContain(`href="/dashboard/${server.project.id}/links?range=90d&amp;source=newsletter"`);
    expect(html).toMatch(/<a href="[^"]*range=7d[^"]*" aria-current="true">7 days<\/a>/);
    expect(html).toContain(`hx-headers:inherited="{&quot;X-CSRF-Token&quot;:&quot;${owner.csrfToken}&quot;}"`);
  });

  test("/dashboard opens the project looked at last", async () => {
    const second = await createProject(server.instance.ctx.storage, { name: "Looked at last" });
    const page = await owner.get(`/dashboard/${second.id}/settings`);
    const remembered = page.headers.getSetCookie().find((c) => c.startsWith("bantico_project="))!;
    expect(remembered).toStartWith(`bantico_project=${second.id}; Path=/; HttpOnly; SameSite=Lax`);
    const entry = await owner.get("/dashboard", { cookie: `${owner.cookie}; bantico_project=${second.id}` });
    expect(entry.headers.get("location")).toBe(`/dashboard/${second.id}`);
    const stale = await owner.get("/dashboard", { cookie: `${owner.cookie}; bantico_project=prj_gone` });
    expect(stale.headers.get("location")).toBe(`/dashboard/${server.project.id}`);
  });

  test("an unknown project or page answers an HTML 404, not another project's data", async () => {
    const response = await owner.get("/dashboard/prj_doesnotexist/settings");
    expect(response.status).toBe(404);
    const page = await owner.get(`/dashboard/${server.project.id}/no/such/page`);
    expect(page.status).toBe(404);
    expect(page.headers.get("content-type")).toStartWith("text/html");
    expect(await page.text()).toContain("There is no such page in this project.");
  });

  test("a form without the CSRF token, or with a wrong one, is refused and leads back to login", async () => {
    for (const csrf of [null, "wrong-token-wrong-token-wrong-tok"]) {
      const response = await owner.post("/projects/new", { name: "Sneaky" }, { csrf, headers: { referer: `${server.url}/projects/new` } });
      expect(response.status).toBe(303);
      expect(response.headers.get("location")).toBe(`/login?next=%2Fprojects%2Fnew&reason=expired`);
    }
    const htmx = await owner.post("/projects/new", { name: "Sneaky" }, { csrf: null, headers: { "hx-request": "true" } });
    expect(htmx.headers.get("hx-redirect")).toStartWith("/login?");
    const count = await server.storage.get("SELECT count(*) AS n FROM projects WHERE name = 'Sneaky'");
    expect(count).toEqual({ n: 0 });
  });

  test("a form sent after the session expired leads to login, then back to the page the form was on", async () => {
    const user = await userWithRole(server, "admin");
    await server.storage.run("UPDATE dashboard_sessions SET expires_at = 0 WHERE user_id = (SELECT id FROM users WHERE email = ?)", [user.email]);
    const settings = `/dashboard/${server.project.id}/settings?range=7d`;
    const response = await user.post(`/dashboard/${server.project.id}/settings/project`, { name: "Late" }, { headers: { referer: `${server.url}${settings}` } });
    expect(response.status).toBe(303);
    const location = response.headers.get("location")!;
    expect(location).toBe(`/login?next=${encodeURIComponent(settings)}&reason=expired`);
    const login = await (await fetch(`${server.url}${location}`)).text();
    expect(login).toContain("Your session expired");
    expect(login).toContain(`name="next" value="${settings.replace("&", "&amp;")}"`);
  });

  test("a session in use is extended, and its cookie is sent again with the new lifetime", async () => {
    const user = await userWithRole(server, "viewer");
    const sessionOf = async (email: string) =>
      (await server.storage.get<{ expires_at: number }>("SELECT expires_at FROM dashboard_sessions WHERE user_id = (SELECT id FROM users WHERE email = ?)", [email]))!;
    const sessionCookies = (response: Response) => response.headers.getSetCookie().filter((cookie) => cookie.startsWith("bantico_session="));

    const fresh = await user.get(`/dashboard/${server.project.id}`);
    expect(fresh.status).toBe(200);
    expect(sessionCookies(fresh)).toEqual([]);

    const now = server.instance.ctx.now();
    await server.storage.run("UPDATE dashboard_sessions SET expires_at = ? WHERE user_id = (SELECT id FROM users WHERE email = ?)", [now + 3 * 86_400_000, user.email]);
    const used = await user.get(`/dashboard/${server.project.id}`);
    expect(used.status).toBe(200);
    expect((await sessionOf(user.email)).expires_at).toBeGreaterThan(now + 29 * 86_400_000);
    const [renewed] = sessionCookies(used);
    expect(renewed).toBe(`${user.cookie}; Path=/; HttpOnly; SameSite=Lax; Max-Age=2592000`);

    const again = await user.get(`/dashboard/${server.project.id}`);
    expect(sessionCookies(again)).toEqual([]);
  });

  test("the CSRF token also counts when sent as the htmx header", async () => {
    const response = await owner.post("/projects/new", { name: "Via header" }, { csrf: null, headers: { "x-csrf-token": owner.csrfToken } });
    expect(response.status).toBe(303);
  });

  test("a form posted from another origin is refused even with a token", async () => {
    const response = await owner.post("/projects/new", { name: "Cross site" }, { headers: { origin: "https://evil.example" } });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toContain("reason=expired");
  });

  test("a viewer can read pages but every write is refused with 403", async () => {
    expect((await viewer.get(`/dashboard/${server.project.id}`)).status).toBe(200);
    const response = await viewer.post("/projects/new", { name: "Viewer project" });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain("you are signed in as viewer");
  });

  test("signing out ends the session on the server", async () => {
    const temp = await userWithRole(server, "admin");
    const response = await temp.post("/logout");
    expect(response.status).toBe(303);
    expect(response.headers.getSetCookie()[0]).toContain("Max-Age=0");
    expect((await temp.get(`/dashboard/${server.project.id}`)).status).toBe(303);
  });
});

test("behind an https base URL the session cookie is Secure", async () => {
  const server = await startTestServer({ env: { BANTICO_BASE_URL: "https://stats.example.com" } });
  try {
    const owner = await userWithRole(server, "owner");
    const page = await fetch(`${server.url}/login`);
    expect(page.headers.getSetCookie()[0]).toContain("; Secure");
    const response = await fetch(`${server.url}/login`, {
      method: "POST",
      headers: { cookie: page.headers.getSetCookie()[0]!.split(";")[0]! },
      body: new URLSearchParams({ _csrf: hiddenCsrf(await page.text()), email: owner.email, password: "correct horse battery" }),
      redirect: "manual",
    });
    expect(response.headers.getSetCookie().find((c) => c.startsWith("bantico_session="))).toMatch(/HttpOnly; SameSite=Lax; Max-Age=\d+; Secure$/);
    // The snippet names the public URL, not the address the request came to.
    const install = await (await owner.get(`/dashboard/${server.project.id}/install`)).text();
    expect(install).toContain("https://stats.example.com/bantico.js");
  } finally {
    await server.close();
  }
});

describe("login throttling", () => {
  test("five wrong passwords for one account and IP lock that pair out for a while", async () => {
    let now = Date.parse("2026-11-21T10:00:00Z");
    const server = await startTestServer({ now: () => now });
    try {
      const owner = await userWithRole(server, "owner", "owner@example.com");
      const page = await fetch(`${server.url}/login`);
      const cookie = page.headers.getSetCookie()[0]!.split(";")[0]!;
      const csrf = hiddenCsrf(await page.text());
      const attempt = (password: string) =>
        fetch(`${server.url}/login`, { method: "POST", headers: { cookie }, body: new URLSearchParams({ _csrf: csrf, email: owner.email, password }), redirect: "manual" });
      for (let i = 0; i < 5; i++) expect((await attempt("wrong password")).status).toBe(401);
      const locked = await attempt("correct horse battery");
      expect(locked.status).toBe(429);
      expect(await locked.text()).toContain("Too many failed sign-ins");
      now += 16 * 60_000;
      expect((await attempt("correct horse battery")).status).toBe(303);
    } finally {
      await server.close();
    }
  });
});
