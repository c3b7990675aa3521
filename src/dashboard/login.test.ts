// Signing in under attack: where `next` may send the browser, and how guessing one account is slowed down.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../testing/harness.ts";
import { hiddenCsrf, userWithRole, type DashboardClient } from "./test-client.ts";

const PASSWORD = "correct horse battery";

async function loginForm(server: TestServer, query = "") {
  const page = await fetch(`${server.url}/login${query}`);
  return { status: page.status, cookie: page.headers.getSetCookie()[0]!.split(";")[0]!, html: await page.text() };
}

function postLogin(server: TestServer, form: { cookie: string; html: string }, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return fetch(`${server.url}/login`, {
    method: "POST",
    headers: { cookie: form.cookie, ...headers },
    body: new URLSearchParams({ _csrf: hiddenCsrf(form.html), ...fields }),
    redirect: "manual",
  });
}

describe("where sign-in sends the browser", () => {
  let server: TestServer;
  let owner: DashboardClient;
  beforeAll(async () => {
    server = await startTestServer();
    owner = await userWithRole(server, "owner");
  });
  afterAll(() => server.close());

  // Each of these reaches another site once a browser drops tabs and newlines and reads "\" as "/".
  const offSite = [
    "/\t/evil.example/",
    "/\n/evil.example/",
    "/\r\n/evil.example/",
    "/\\evil.example/",
    "/\\/evil.example/",
    "/.//evil.example/",
    "/dashboard/../..//evil.example/",
    "//evil.example/",
    "/\u2028/evil.example/",
    "/\u2028",
    "/dashboard\r\nSet-Cookie: pwn=1",
    "https://evil.example/",
    "\t//evil.example/",
    "%2F%2Fevil.example/",
  ];

  test("a signed-in reader sent to /login with a next leading off-site stays on the dashboard", async () => {
    for (const next of offSite) {
      const response = await owner.get(`/login?next=${encodeURIComponent(next)}`);
      expect({ next, status: response.status, location: response.headers.get("location") }).toEqual({ next, status: 303, location: "/dashboard" });
    }
  });

  test("the login page never offers an off-site next, and a correct password always gets its cookie", async () => {
    for (const next of offSite) {
      const form = await loginForm(server, `?next=${encodeURIComponent(next)}`);
      expect(form.status).toBe(200);
      expect(form.html).not.toContain("evil.example");
      const response = await postLogin(server, form, { email: owner.email, password: PASSWORD, next });
      expect({ next, status: response.status, location: response.headers.get("location") }).toEqual({ next, status: 303, location: "/dashboard" });
      expect(response.headers.getSetCookie().some((c) => c.startsWith("bantico_session="))).toBe(true);
    }
  });

  test("a same-origin next is kept, normalised as the browser would read it", async () => {
    const form = await loginForm(server);
    for (const [next, expected] of [
      [`/dashboard/${server.project.id}/links?range=7d#top`, `/dashboard/${server.project.id}/links?range=7d#top`],
      [`/dashboard/x/../${server.project.id}/payments`, `/dashboard/${server.project.id}/payments`],
      ["/dashboard/%2F%2Fevil.example", "/dashboard/%2F%2Fevil.example"],
    ] as const) {
      const response = await postLogin(server, form, { email: owner.email, password: PASSWORD, next });
      expect(response.headers.get("location")).toBe(expected);
    }
  });
});

describe("guessing one account's password", () => {
  test("wrong passwords from many forwarded addresses lock the account with a growing wait, and the owner gets in after it", async () => {
    let now = Date.parse("2026-11-21T10:00:00Z");
    const server = await startTestServer({ now: () => now, env: { BANTICO_TRUSTED_PROXIES: "127.0.0.1" } });
    try {
      const owner = await userWithRole(server, "owner", "owner@example.com");
      const form = await loginForm(server);
      const from = (address: string) => ({ "x-forwarded-for": address });
      const statuses: number[] = [];
      for (let i = 1; i <= 40; i++) {
        statuses.push((await postLogin(server, form, { email: "Owner@Example.com ", password: `guess ${i}` }, from(`203.0.113.${i}`))).status);
      }
      expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(10);
      expect(statuses.slice(10).every((s) => s === 429)).toBe(true);

      // A fresh address with the right password is refused too while the account is locked, and told when to come back.
      const locked = await postLogin(server, form, { email: owner.email, password: PASSWORD }, from("198.51.100.7"));
      expect(locked.status).toBe(429);
      const firstWait = Number(locked.headers.get("retry-after"));
      expect(firstWait).toBeGreaterThan(0);

      // After the wait one more guess is let through, and the wait after it is longer.
      now += firstWait * 1000;
      expect((await postLogin(server, form, { email: owner.email, password: "guess 41" }, from("203.0.113.41"))).status).toBe(401);
      const longer = await postLogin(server, form, { email: owner.email, password: PASSWORD }, from("198.51.100.7"));
      expect(longer.status).toBe(429);
      const secondWait = Number(longer.headers.get("retry-after"));
      expect(secondWait).toBeGreaterThan(firstWait);

      // Other accounts are not locked by it.
      const other = await userWithRole(server, "viewer", "viewer@example.com");
      expect(other.cookie).toStartWith("bantico_session=");

      now += secondWait * 1000;
      const signedIn = await postLogin(server, form, { email: owner.email, password: PASSWORD }, from("198.51.100.7"));
      expect(signedIn.status).toBe(303);
      expect(signedIn.headers.getSetCookie().some((c) => c.startsWith("bantico_session="))).toBe(true);
    } finally {
      await server.close();
    }
  });

  test("an address locked out for guessing can sign in once its window has passed", async () => {
    let now = Date.parse("2026-11-21T10:00:00Z");
    const server = await startTestServer({ now: () => now, env: { BANTICO_TRUSTED_PROXIES: "127.0.0.1" } });
    try {
      const owner = await userWithRole(server, "owner", "owner@example.com");
      const form = await loginForm(server);
      const attacker = { "x-forwarded-for": "203.0.113.9" };
      for (let i = 0; i < 30; i++) await postLogin(server, form, { email: `someone${i}@example.com`, password: "guess" }, attacker);
      const locked = await postLogin(server, form, { email: owner.email, password: PASSWORD }, attacker);
      expect(locked.status).toBe(429);
      now += Number(locked.headers.get("retry-after")) * 1000;
      expect((await postLogin(server, form, { email: owner.email, password: PASSWORD }, attacker)).status).toBe(303);
    } finally {
      await server.close();
    }
  });
});
