// How dashboard routes run: session → project → CSRF → role → handler, with HTML answers for
// every refusal (login redirect keeping `next`, 403, 404) and no stack trace for anything typed.
// Project access is decided here, once for every page, export and fragment: a project the user is
// not a member of answers 404 as if it did not exist, and on a project `user.role` is the role there.
import { Elysia } from "elysia";
import type { AppContext } from "../context.ts";
import { publicBaseUrl } from "../config.ts";
import { listProjects, type Project } from "../projects/service.ts";
import { accessOf, roleOnProject, visibleProjects } from "../auth/access.ts";
import { csrfMatches, findSession, SESSION_COOKIE, type DashboardSession } from "../auth/sessions.ts";
import type { Role, User } from "../auth/users.ts";
import { html, htmlResponse, Html } from "./html.ts";
import { ApiError, NotOnPostgresYet } from "../http/errors.ts";
import { parseRange, rangeQuery, type DateRange } from "./range.ts";
import { SECTIONS, sectionOf, type SectionId } from "./sections.ts";
import { bareLayout, layout, type Flash } from "../../views/layout.ts";
import { csrfInput } from "../../views/components.ts";
import { isSecureRequest, LAST_PROJECT_COOKIE, readCookie, sessionCookie, setCookie } from "./cookies.ts";

export const CSRF_FIELD = "_csrf";
export const CSRF_HEADER = "x-csrf-token";

const ROLE_RANK: Record<Role, number> = { viewer: 0, admin: 1, owner: 2 };

/** What a signed-in route's handler receives. */
export interface SignedInRequest {
  ctx: AppContext;
  request: Request;
  url: URL;
  query: URLSearchParams;
  /** Path parameters (Elysia's), e.g. { linkId } for "/links/:linkId". */
  params: Record<string, string>;
  /** On a project page, `role` is the user's role on that project; elsewhere their role outside any project. */
  user: User;
  session: DashboardSession;
  /** The form body of a POST/PUT/PATCH/DELETE (urlencoded or multipart); empty for GET. */
  form: FormData;
  /** True for requests htmx sends (answer with a fragment). */
  htmx: boolean;
  /** BANTICO_BASE_URL or the request's origin: for snippets, short URLs, webhook URLs. */
  baseUrl: string;
  /** The projects this user may see (all of them for owners and users added for every project). */
  projects: Project[];
}

/** What a project page's handler receives: the signed-in request plus the project and the period. */
export interface DashboardRequest extends SignedInRequest {
  project: Project;
  /** Parsed from ?range=today|7d|30d|90d|365d|custom&from&to and the filter params, in the project's timezone. */
  range: DateRange;
  section: SectionId | null;
  /** "/dashboard/{projectId}" + subPath + the current range and filters + extra params (null removes one). */
  href(subPath: string, extra?: Record<string, string | null>): string;
}

export type HandlerResult = Html | Response;
export type Handler<R> = (req: R) => HandlerResult | Promise<HandlerResult>;

export interface RouteOptions {
  /** The least role allowed. Default: "viewer" for GET, "admin" for every other method. */
  role?: Role;
}

/** Throw from a handler to answer with an HTML error page (404 for another project's id, 400, 409 …). */
export class DashboardError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function requireRole(req: SignedInRequest, role: Role): void {
  if (ROLE_RANK[req.user.role] < ROLE_RANK[role]) {
    throw new DashboardError(403, `This needs the ${role} role; you are signed in as ${req.user.role}.`);
  }
}

export function canWrite(user: Pick<User, "role">): boolean {
  return ROLE_RANK[user.role] >= ROLE_RANK.admin;
}

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/**
 * Registers dashboard routes on one Elysia instance. `get`/`post`/… take a path under
 * /dashboard/{projectId}; `account(...)` takes an absolute path for signed-in pages outside a project.
 */
export class DashboardRouter {
  readonly app = new Elysia();
  private readonly registered = new Set<string>();

  constructor(readonly ctx: AppContext) {}

  get(subPath: string, handler: Handler<DashboardRequest>, options: RouteOptions = {}): this {
    return this.project("GET", subPath, handler, options);
  }
  post(subPath: string, handler: Handler<DashboardRequest>, options: RouteOptions = {}): this {
    return this.project("POST", subPath, handler, options);
  }
  put(subPath: string, handler: Handler<DashboardRequest>, options: RouteOptions = {}): this {
    return this.project("PUT", subPath, handler, options);
  }
  patch(subPath: string, handler: Handler<DashboardRequest>, options: RouteOptions = {}): this {
    return this.project("PATCH", subPath, handler, options);
  }
  delete(subPath: string, handler: Handler<DashboardRequest>, options: RouteOptions = {}): this {
    return this.project("DELETE", subPath, handler, options);
  }

  /** A signed-in route outside any project (account page, new project). */
  account(method: Method, path: string, handler: Handler<SignedInRequest>, options: RouteOptions = {}): this {
    this.app.route(method, path, ({ request, params }) => this.run(request, params as Record<string, string>, method, options, null, handler as Handler<SignedInRequest | DashboardRequest>), {
      parse: "none",
    });
    return this;
  }

  /** Every route under /dashboard/{projectId}, as registered: what an access test must walk. */
  projectRoutes(): { method: Method; subPath: string }[] {
    return [...this.registered].map((route) => {
      const [method, subPath] = route.split(" ") as [Method, string];
      return { method, subPath };
    });
  }

  /** True when some page registered GET for this sub-path (the shell fills the gaps with a placeholder). */
  hasPage(subPath: string): boolean {
    return this.registered.has(`GET ${subPath}`);
  }

  private project(method: Method, subPath: string, handler: Handler<DashboardRequest>, options: RouteOptions): this {
    this.registered.add(`${method} ${subPath}`);
    const path = `/dashboard/:projectId${subPath}`;
    this.app.route(method, path, ({ request, params }) => this.run(request, params as Record<string, string>, method, options, subPath, handler as Handler<SignedInRequest | DashboardRequest>), {
      parse: "none",
    });
    return this;
  }

  private async run(
    request: Request,
    params: Record<string, string>,
    method: Method,
    options: RouteOptions,
    subPath: string | null,
    handler: Handler<SignedInRequest | DashboardRequest>,
  ): Promise<Response> {
    const ctx = this.ctx;
    const url = new URL(request.url);
    const isHtmx = request.headers.get("hx-request") === "true";
    let req: SignedInRequest | null = null;
    const token = readCookie(request, SESSION_COOKIE);
    let session: DashboardSession | null = null;
    // An extended session's cookie goes out again, or the browser would drop it 30 days after sign-in however active it is.
    const renewing = (response: Response) => {
      if (session?.renewed) response.headers.append("set-cookie", sessionCookie(token!, isSecureRequest(request, ctx.config)));
      return response;
    };
    try {
      session = await findSession(ctx.storage, token, ctx.now());
      if (!session) return toLogin(request, url, isHtmx, method === "GET" ? null : "expired");
      const form = method === "GET" ? new FormData() : await readForm(request);
      if (method !== "GET") {
        const submitted = request.headers.get(CSRF_HEADER) ?? formString(form, CSRF_FIELD);
        if (!sameOrigin(request, url, ctx) || !csrfMatches(session.csrfToken, submitted)) return toLogin(request, url, isHtmx, "expired");
      }
      const access = await accessOf(ctx.storage, session.user.id);
      const projects = visibleProjects(await listProjects(ctx.storage), access);
      req = {
        ctx,
        request,
        url,
        query: url.searchParams,
        params,
        user: session.user,
        session,
        form,
        htmx: isHtmx,
        baseUrl: publicBaseUrl(ctx.config, request),
        projects,
      };
      if (subPath !== null) {
        const project = projects.find((each) => each.id === params.projectId);
        if (!project) throw new DashboardError(404, "There is no such project.");
        const range = parseRange(url.searchParams, project.timezone, ctx.now());
        const dashboardReq: DashboardRequest = {
          ...req,
          user: { ...req.user, role: roleOnProject(req.user, access, project.id)! },
          project,
          range,
          section: sectionOf(subPath),
          href: (path, extra = {}) => projectHref(project.id, path, range, extra),
        };
        req = dashboardReq;
      }
      requireRole(req, options.role ?? (method === "GET" ? "viewer" : "admin"));
      // Project pages read the counters: fold what is still in their backlog first.
      if (subPath !== null) await ctx.writes.settle();
      const result = await handler(req);
      const response = result instanceof Html ? pageResponse(result) : withSecurityHeaders(result);
      if ("project" in req && method === "GET" && !isHtmx) rememberProject(request, response, (req as DashboardRequest).project.id, ctx);
      return renewing(response);
    } catch (error) {
      if (error instanceof DashboardError) return renewing(errorPage(req, error.status, error.message));
      if (error instanceof NotOnPostgresYet) return renewing(errorPage(req, error.httpStatus, "This page does not run on PostgreSQL in this version yet."));
      // What the storage refuses as bad input (PostgreSQL's text cannot hold NUL) is the request's fault, as the API answers it.
      if (error instanceof ApiError && error.httpStatus < 500) return renewing(errorPage(req, error.httpStatus, error.message));
      console.error("dashboard error:", error);
      return renewing(errorPage(req, 500, "Something went wrong on our side. The error was logged."));
    }
  }
}

/** /dashboard opens the project looked at last (a cookie, written only when it changes). */
function rememberProject(request: Request, response: Response, projectId: string, ctx: AppContext): void {
  if (readCookie(request, LAST_PROJECT_COOKIE) === projectId || response.status !== 200) return;
  response.headers.append("set-cookie", setCookie(LAST_PROJECT_COOKIE, projectId, { maxAgeSeconds: 365 * 86_400, secure: isSecureRequest(request, ctx.config) }));
}

export function projectHref(projectId: string, subPath: string, range: DateRange, extra: Record<string, string | null> = {}): string {
  const query = rangeQuery(range);
  for (const [key, value] of Object.entries(extra)) {
    if (value === null) query.delete(key);
    else query.set(key, value);
  }
  const qs = query.toString();
  return `/dashboard/${projectId}${subPath}${qs ? `?${qs}` : ""}`;
}

/** Renders a project page (or an account page when `req` has no project) inside the layout. */
export function renderPage(
  req: SignedInRequest | DashboardRequest,
  page: { title: string; body: Html; showRange?: boolean; flash?: Flash | null },
): Html {
  const project = "project" in req ? (req as DashboardRequest) : null;
  return layout(
    {
      title: page.title,
      user: req.user,
      csrfToken: req.session.csrfToken,
      project: project ? { id: project.project.id, name: project.project.name } : null,
      projects: req.projects.map((p) => ({ id: p.id, name: p.name })),
      section: project?.section ?? null,
      path: req.url.pathname,
      range: project && page.showRange ? project.range : null,
      flash: page.flash ?? null,
      // The layout's only write is "New project": the role outside any project decides it, not the one on this project.
      canWrite: canWrite(req.session.user),
    },
    page.body,
  );
}

/** The hidden field every dashboard form carries. */
export function csrfField(req: SignedInRequest): Html {
  return csrfInput(req.session.csrfToken);
}

/** 303 after a successful POST; htmx requests get HX-Redirect so the whole page moves. */
export function redirectTo(req: Pick<SignedInRequest, "htmx">, location: string): Response {
  if (req.htmx) return new Response(null, { status: 204, headers: { "hx-redirect": location, "cache-control": "no-store" } });
  return new Response(null, { status: 303, headers: { location, "cache-control": "no-store" } });
}

export function formString(form: FormData, name: string): string {
  const value = form.get(name);
  return typeof value === "string" ? value : "";
}

async function readForm(request: Request): Promise<FormData> {
  const type = request.headers.get("content-type") ?? "";
  if (!type.includes("application/x-www-form-urlencoded") && !type.includes("multipart/form-data")) return new FormData();
  try {
    return await request.formData();
  } catch {
    throw new DashboardError(400, "The form could not be read. Reload the page and try again.");
  }
}

/** A browser's Origin (when sent) must be this server: a second line behind the CSRF token. */
function sameOrigin(request: Request, url: URL, ctx: AppContext): boolean {
  const origin = request.headers.get("origin");
  if (origin === null) return true;
  if (origin === "null") return false;
  try {
    const host = new URL(origin).host;
    return host === url.host || (ctx.config.baseUrl !== null && host === new URL(ctx.config.baseUrl).host);
  } catch {
    return false;
  }
}

const NEXT_PARSE_BASE = "http://next.invalid";

/**
 * A path on this server that is safe to send someone back to after sign-in, normalised as a browser would read it:
 * browsers drop tabs and newlines and read `\\` as `/`, so `/<TAB>/evil.example` is checked as `//evil.example`.
 */
export function safeNext(value: string | null | undefined): string | null {
  if (!value || value.length > 2000 || !value.startsWith("/") || /[\s\p{Cc}\p{Cf}\\]/u.test(value)) return null;
  let url: URL;
  try {
    url = new URL(value, NEXT_PARSE_BASE);
  } catch {
    return null;
  }
  const path = `${url.pathname}${url.search}${url.hash}`;
  if (url.origin !== NEXT_PARSE_BASE || path.startsWith("//")) return null;
  return path;
}

function toLogin(request: Request, url: URL, isHtmx: boolean, reason: "expired" | null): Response {
  // For a refused form, come back to the page the form was on (same origin), not to its POST target.
  let next = `${url.pathname}${url.search}`;
  if (request.method !== "GET") {
    const referer = request.headers.get("referer");
    next = url.pathname;
    if (referer) {
      try {
        const ref = new URL(referer);
        if (ref.host === url.host) next = `${ref.pathname}${ref.search}`;
      } catch {
        // keep the POST path
      }
    }
  }
  const query = new URLSearchParams({ next });
  if (reason) query.set("reason", reason);
  const location = `/login?${query}`;
  if (isHtmx) return new Response(null, { status: 204, headers: { "hx-redirect": location, "cache-control": "no-store" } });
  return new Response(null, { status: 303, headers: { location, "cache-control": "no-store" } });
}

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** Headers for every dashboard page: no caching of private data, no framing, no foreign scripts. */
export function withSecurityHeaders(response: Response): Response {
  const headers = response.headers;
  if (!headers.has("cache-control")) headers.set("cache-control", "no-store");
  headers.set("content-security-policy", CSP);
  headers.set("x-content-type-options", "nosniff");
  headers.set("x-frame-options", "DENY");
  headers.set("referrer-policy", "same-origin");
  return response;
}

export function pageResponse(body: Html, status = 200): Response {
  return withSecurityHeaders(htmlResponse(body, { status }));
}

function errorPage(req: SignedInRequest | null, status: number, message: string): Response {
  const titles: Record<number, string> = { 400: "Bad request", 403: "Not allowed", 404: "Not found", 409: "Conflict", 500: "Error", 503: "Not available" };
  const title = titles[status] ?? "Error";
  if (req?.htmx) return pageResponse(html`<p class="notice error" role="alert">${message}</p>`, status);
  const body = html`<p class="notice error" role="alert">${message}</p><p><a href="/dashboard">Back to the dashboard</a></p>`;
  return pageResponse(req ? renderPage(req, { title, body }) : bareLayout(title, html`<h1>${title}</h1>${body}`), status);
}

/**
 * Registered last: a placeholder for any section nobody has built (keeps navigation whole while
 * pages land), and an HTML 404 inside the layout for any other path under a project.
 */
export function fillGaps(router: DashboardRouter): void {
  for (const section of SECTIONS) {
    if (!router.hasPage(section.path)) {
      router.get(section.path, (req) =>
        renderPage(req, { title: section.label, showRange: true, body: html`<p class="muted">This section is not available in this build yet.</p>` }),
      );
    }
  }
  router.get("/*", () => {
    throw new DashboardError(404, "There is no such page in this project.");
  });
}
