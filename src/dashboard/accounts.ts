// Signing in and out: first-start setup (with the one-time token from the log), login (throttled), logout, password change, new projects,
// and the entry redirects (/ and /dashboard).
import { Elysia } from "elysia";
import type { AppContext } from "../context.ts";
import { createProject, listProjects } from "../projects/service.ts";
import { accessOf, visibleProjects } from "../auth/access.ts";
import { projectNameError, TIMEZONES } from "./project-settings.ts";
import {
  countUsers,
  hashPassword,
  normalizeEmail,
  setPassword,
  validateCredentials,
  verifyPassword,
} from "../auth/users.ts";
import { createFirstOwner, hasOwner, setupTokenMatches } from "../auth/setup-token.ts";
import { countUserSessions, createSession, csrfMatches, deleteSession, deleteUserSessions, findSession, SESSION_COOKIE } from "../auth/sessions.ts";
import { LoginThrottle } from "../auth/rate-limit.ts";
import { randomString } from "../core/ids.ts";
import { clearCookie, isSecureRequest, LAST_PROJECT_COOKIE, readCookie, sessionCookie, setCookie } from "./cookies.ts";
import { canWrite, CSRF_FIELD, DashboardRouter, formString, pageResponse, redirectTo, renderPage, safeNext, type SignedInRequest } from "./routing.ts";
import { bareLayout } from "../../views/layout.ts";
import { accountPage, loginPage, newProjectPage, setupLinkNeededPage, setupPage } from "../../views/auth.ts";
import type { FieldErrors } from "../../views/components.ts";

/** Before sign-in there is no session: forms carry a token that must equal this cookie (double submit). */
const PRE_SESSION_COOKIE = "bantico_csrf";

function preSessionToken(request: Request): { token: string; cookie: string | null } {
  const existing = readCookie(request, PRE_SESSION_COOKIE);
  if (existing && /^[A-Za-z0-9]{32}$/.test(existing)) return { token: existing, cookie: null };
  const token = randomString(32);
  return { token, cookie: token };
}

function withCookies(response: Response, cookies: (string | null)[]): Response {
  for (const c of cookies) if (c) response.headers.append("set-cookie", c);
  return response;
}

function readPublicForm(request: Request): Promise<FormData> {
  return request.formData().catch(() => new FormData());
}

function see(location: string, cookies: (string | null)[] = []): Response {
  return withCookies(new Response(null, { status: 303, headers: { location, "cache-control": "no-store" } }), cookies);
}

/** The public routes (setup, login, logout) and the signed-in account routes. */
export function accountRoutes(ctx: AppContext, router: DashboardRouter) {
  const throttle = new LoginThrottle(ctx.storage, ctx.secret);
  const secure = (request: Request) => isSecureRequest(request, ctx.config);
  const preSessionCookie = (request: Request, token: string | null) =>
    token ? setCookie(PRE_SESSION_COOKIE, token, { maxAgeSeconds: 86_400, secure: secure(request) }) : null;
  const currentSession = (request: Request) => findSession(ctx.storage, readCookie(request, SESSION_COOKIE), ctx.now());

  function renderSetup(request: Request, setupToken: string, values: Record<string, string>, errors: FieldErrors, status = 200, formError: string | null = null) {
    const { token, cookie } = preSessionToken(request);
    return withCookies(pageResponse(bareLayout("Set up", setupPage({ csrfToken: token, setupToken, values, errors, formError })), status), [preSessionCookie(request, cookie)]);
  }
  // Without the one-time token from the log nobody may create the owner, whoever reaches the server first.
  const setupLinkNeeded = () => pageResponse(bareLayout("Set up", setupLinkNeededPage()), 403);

  function renderLogin(request: Request, data: { email?: string; next: string | null; error?: string | null; notice?: string | null }, status = 200) {
    const { token, cookie } = preSessionToken(request);
    const page = loginPage({ csrfToken: token, email: data.email ?? "", next: data.next, error: data.error, notice: data.notice });
    return withCookies(pageResponse(bareLayout("Sign in", page), status), [preSessionCookie(request, cookie)]);
  }

  // "owner", "admin of every project", or a member's role on each of their projects.
  const roleDescription = async (req: SignedInRequest) => {
    const access = await accessOf(ctx.storage, req.user.id);
    if (access.everyProject) return req.user.role === "owner" ? "owner" : `${req.user.role} of every project`;
    return req.projects.map((project) => `${access.roles.get(project.id)} of ${project.name}`).join(", ") || "member of no project";
  };

  const account = async (req: SignedInRequest, errors: FieldErrors) =>
    accountPage({
      csrfToken: req.session.csrfToken,
      email: req.user.email,
      role: await roleDescription(req),
      otherSessions: (await countUserSessions(ctx.storage, req.user.id, ctx.now())) - 1,
      errors,
    });

  router
    .account("GET", "/account", async (req) =>
      renderPage(req, { title: "Account", body: await account(req, {}) }),
    )
    .account(
      "POST",
      "/account/password",
      async (req) => {
        const current = formString(req.form, "currentPassword");
        const next = formString(req.form, "newPassword");
        const confirm = formString(req.form, "confirmPassword");
        const errors: FieldErrors = {};
        if (!(await verifyPassword(ctx.storage, req.user.email, current))) errors.currentPassword = "This is not your current password.";
        const check = validateCredentials(req.user.email, next);
        if (check.password) errors.newPassword = check.password;
        else if (next !== confirm) errors.confirmPassword = "The two new passwords differ.";
        if (Object.keys(errors).length > 0) {
          return pageResponse(renderPage(req, { title: "Account", body: await account(req, errors) }), 422);
        }
        await setPassword(ctx.storage, req.user.id, next);
        await deleteUserSessions(ctx.storage, req.user.id, req.session.tokenHash);
        return renderPage(req, { title: "Account", body: await account(req, {}), flash: { kind: "ok", text: "Password changed. Your other sessions were signed out." } });
      },
      { role: "viewer" },
    )
    .account(
      "POST",
      "/account/sign-out-others",
      async (req) => {
        await deleteUserSessions(ctx.storage, req.user.id, req.session.tokenHash);
        return renderPage(req, { title: "Account", body: await account(req, {}), flash: { kind: "ok", text: "Signed out everywhere else." } });
      },
      { role: "viewer" },
    )
    .account("GET", "/projects/new", (req) =>
      renderPage(req, { title: "New project", body: newProjectPage({ csrfToken: req.session.csrfToken, name: "", errors: {} }) }),
      { role: "admin" },
    )
    .account("POST", "/projects/new", async (req) => {
      const name = formString(req.form, "name").trim();
      const error = projectNameError(name);
      if (error) {
        return pageResponse(renderPage(req, { title: "New project", body: newProjectPage({ csrfToken: req.session.csrfToken, name, errors: { name: error } }) }), 422);
      }
      const project = await createProject(ctx.storage, { name }, ctx.now());
      return redirectTo(req, `/dashboard/${project.id}/install`);
    });

  return new Elysia()
    .get("/", async ({ request }) => {
      if ((await countUsers(ctx.storage)) === 0) return see("/setup");
      return see((await currentSession(request)) ? "/dashboard" : "/login");
    })
    .get("/dashboard", async ({ request }) => {
      if ((await countUsers(ctx.storage)) === 0) return see("/setup");
      const session = await currentSession(request);
      if (!session) return see("/login?next=%2Fdashboard");
      const projects = visibleProjects(await listProjects(ctx.storage), await accessOf(ctx.storage, session.user.id));
      const last = readCookie(request, LAST_PROJECT_COOKIE);
      const project = projects.find((p) => p.id === last) ?? projects[0];
      if (project) return see(`/dashboard/${project.id}`);
      // A member whose projects were all removed has nothing to open and may not create one.
      return see(canWrite(session.user) ? "/projects/new" : "/account");
    })
    .get("/setup", async ({ request }) => {
      if (await hasOwner(ctx.storage)) return see("/login");
      const setupToken = new URL(request.url).searchParams.get("token");
      if (!(await setupTokenMatches(ctx.storage, setupToken))) return setupLinkNeeded();
      return renderSetup(request, setupToken!, { email: "", projectName: "", timezone: "" }, {});
    })
    .post(
      "/setup",
      async ({ request }) => {
        if (await hasOwner(ctx.storage)) return see("/login");
        const form = await readPublicForm(request);
        const setupToken = formString(form, "token");
        if (!(await setupTokenMatches(ctx.storage, setupToken))) return setupLinkNeeded();
        const values = {
          email: formString(form, "email").trim(),
          projectName: formString(form, "projectName").trim(),
          timezone: formString(form, "timezone").trim(),
        };
        const password = formString(form, "password");
        if (!csrfMatches(readCookie(request, PRE_SESSION_COOKIE) ?? "", formString(form, CSRF_FIELD))) {
          return renderSetup(request, setupToken, values, {}, 403, "This form expired. Check the fields and submit again.");
        }
        const errors: FieldErrors = { ...validateCredentials(values.email, password) };
        const nameError = projectNameError(values.projectName);
        if (nameError) errors.projectName = nameError;
        if (Object.keys(errors).length > 0) return renderSetup(request, setupToken, values, errors, 422);
        const passwordHash = await hashPassword(password);
        // The browser's own timezone (filled in by dashboard.js), so days in reports are the founder's days.
        const timezone = TIMEZONES.includes(values.timezone) ? values.timezone : null;
        const created = await createFirstOwner(ctx.storage, { email: values.email, passwordHash, projectName: values.projectName, timezone }, ctx.now());
        if (!created) return see("/login");
        const { token } = await createSession(ctx.storage, created.user.id, ctx.now());
        return see(`/dashboard/${created.project.id}/install`, [sessionCookie(token, secure(request))]);
      },
      { parse: "none" },
    )
    .get("/login", async ({ request }) => {
      if ((await countUsers(ctx.storage)) === 0) return see("/setup");
      const url = new URL(request.url);
      const next = safeNext(url.searchParams.get("next"));
      const expired = url.searchParams.get("reason") === "expired";
      if (!expired && (await currentSession(request))) return see(next ?? "/dashboard");
      return renderLogin(request, { next, notice: expired ? "Your session expired or the form was stale. Sign in to continue where you were." : null });
    })
    .post(
      "/login",
      async ({ request }) => {
        const form = await readPublicForm(request);
        const email = formString(form, "email").trim();
        const password = formString(form, "password");
        const next = safeNext(formString(form, "next"));
        if (!csrfMatches(readCookie(request, PRE_SESSION_COOKIE) ?? "", formString(form, CSRF_FIELD))) {
          return renderLogin(request, { email, next, error: "The sign-in form expired. Please try again." }, 403);
        }
        const attempt = { ip: ctx.clientIp(request) ?? "unknown", account: normalizeEmail(email) };
        const now = ctx.now();
        const wait = await throttle.retryAfter(attempt, now);
        if (wait > 0) {
          const minutes = Math.ceil(wait / 60_000);
          const response = renderLogin(request, { email, next, error: `Too many failed sign-ins. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.` }, 429);
          response.headers.set("retry-after", String(Math.ceil(wait / 1000)));
          return response;
        }
        const user = email && password ? await verifyPassword(ctx.storage, email, password) : null;
        if (!user) {
          await throttle.recordFailure(attempt, now);
          return renderLogin(request, { email, next, error: "Wrong email or password." }, 401);
        }
        await throttle.recordSuccess(attempt);
        const { token } = await createSession(ctx.storage, user.id, now);
        return see(next ?? "/dashboard", [sessionCookie(token, secure(request))]);
      },
      { parse: "none" },
    )
    .post(
      "/logout",
      async ({ request }) => {
        const token = readCookie(request, SESSION_COOKIE);
        const session = await findSession(ctx.storage, token, ctx.now());
        const form = await readPublicForm(request);
        const submitted = request.headers.get("x-csrf-token") ?? formString(form, CSRF_FIELD);
        // Without the session's CSRF token a foreign page could sign people out; only the owner of the page may.
        if (session && csrfMatches(session.csrfToken, submitted)) await deleteSession(ctx.storage, token);
        else if (session) return see("/dashboard");
        return see("/login", [clearCookie(SESSION_COOKIE, secure(request))]);
      },
      { parse: "none" },
    );
}
