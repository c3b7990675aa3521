// Test helper: a signed-in browser-like client for dashboard routes (cookies, CSRF token, forms).
import type { TestServer } from "../testing/harness.ts";
import { createUser, type Role } from "../auth/users.ts";
import { fakeProviderApi, type stripeEvent } from "../payments/testing.ts";

export interface DashboardClient {
  email: string;
  csrfToken: string;
  cookie: string;
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  /** Posts a urlencoded form; adds the CSRF field unless `csrf: null` (or another value) is given. */
  post(path: string, fields?: Record<string, string>, options?: { csrf?: string | null; headers?: Record<string, string> }): Promise<Response>;
}

function cookiesFrom(response: Response): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(";");
    const eq = pair!.indexOf("=");
    out[pair!.slice(0, eq)] = pair!.slice(eq + 1);
  }
  return out;
}

export function hiddenCsrf(page: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(page) ?? /name="csrf-token" content="([^"]+)"/.exec(page);
  if (!match) throw new Error("no CSRF token on the page");
  return match[1]!;
}

/** Signs in through the real /login form and returns a client carrying the session cookie. */
export async function signIn(server: Pick<TestServer, "url">, email: string, password: string): Promise<DashboardClient> {
  const loginPage = await fetch(`${server.url}/login`, { redirect: "manual" });
  const pre = cookiesFrom(loginPage);
  const body = new URLSearchParams({ email, password, _csrf: hiddenCsrf(await loginPage.text()) });
  const response = await fetch(`${server.url}/login`, {
    method: "POST",
    body,
    redirect: "manual",
    headers: { cookie: `bantico_csrf=${pre.bantico_csrf}` },
  });
  const session = cookiesFrom(response).bantico_session;
  if (response.status !== 303 || !session) throw new Error(`sign-in failed with ${response.status}`);
  const cookie = `bantico_session=${session}`;
  const account = await fetch(`${server.url}/account`, { headers: { cookie } });
  const csrfToken = hiddenCsrf(await account.text());
  return {
    email,
    csrfToken,
    cookie,
    get: (path, headers = {}) => fetch(`${server.url}${path}`, { redirect: "manual", headers: { cookie, ...headers } }),
    post: (path, fields = {}, options = {}) => {
      const form = new URLSearchParams(fields);
      const csrf = options.csrf === undefined ? csrfToken : options.csrf;
      if (csrf !== null) form.set("_csrf", csrf);
      return fetch(`${server.url}${path}`, { method: "POST", body: form, redirect: "manual", headers: { cookie, ...options.headers } });
    },
  };
}

/** Creates a user with a role (argon2id, as in production) and signs them in. */
export async function userWithRole(server: TestServer, role: Role, email = `${role}-${crypto.randomUUID().slice(0, 8)}@example.com`): Promise<DashboardClient> {
  const password = "correct horse battery";
  await createUser(server.instance.ctx.storage, { email, password, role });
  return signIn(server, email, password);
}

export const STRIPE_KEY = "rk_test_dashboardkey";

/** A Stripe API double: events.list for the right key, 401 for others, 403 naming rak_event_read for a key without Events read. */
export function fakeStripe(events: ReturnType<typeof stripeEvent>[]) {
  return fakeProviderApi((request, url) => {
    const auth = request.headers.get("authorization") ?? "";
    if (auth.includes("rk_test_noevents")) {
      return Response.json(
        { error: { type: "invalid_request_error", message: "The provided key does not have the required permissions for this endpoint. Having the 'rak_event_read' permission would allow this request to continue." } },
        { status: 403 },
      );
    }
    if (!auth.includes(STRIPE_KEY)) return Response.json({ error: { type: "invalid_request_error", message: "Invalid API Key provided" } }, { status: 401 });
    if (url.pathname !== "/v1/events") return Response.json({ error: { message: "not faked" } }, { status: 404 });
    return Response.json({ object: "list", url: "/v1/events", has_more: false, data: events });
  });
}
