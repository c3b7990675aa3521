// The dashboard: server-rendered pages with htmx 4, signed-in users, one URL space per project.
//
// URL scheme
//   /                          → /setup (no user yet), /dashboard (signed in) or /login
//   /setup, /login, /logout    → public (setup only while the instance has no user)
//   /account, /projects/new    → signed in, outside a project
//   /dashboard                 → the first project
//   /dashboard/{projectId}     → overview; every section lives under it: /links, /campaigns,
//                                /sources, /mediums, /contents, /leads, /funnel, /payments,
//                                /profiles, /live, /settings (see sections.ts), /install
//   /static/…                  → htmx, dashboard.css, dashboard.js (embedded, content-versioned)
// Query: ?range=today|7d|30d|90d|365d|custom&from=YYYY-MM-DD&to=YYYY-MM-DD plus filters
// link, campaign, source, medium, content, lead — the view is shareable and survives reloads.
//
// Adding a page (data engineer)
//   1. In src/dashboard/pages/<page>.ts export a `DashboardPage`: (router) => void, e.g.
//        export const linksPage: DashboardPage = (router) => router
//          .get("/links", (req) => renderPage(req, { title: "Links", showRange: true, body: linksView(data) }))
//          .post("/links", (req) => { …validate req.form…; return redirectTo(req, req.href("/links")); });
//      and list it in src/dashboard/pages/index.ts. A GET on a section's path replaces its placeholder.
//   2. Route: paths are relative to /dashboard/{projectId}; `req` (DashboardRequest, routing.ts) holds
//      ctx, user, session, project, projects, range, query, params, form, htmx, baseUrl, href().
//      Another project's id in a path (a link, a payment) must answer 404: always query WHERE project_id = req.project.id.
//   3. Role: the router lets a user reach only the projects they see (owners and users for every project:
//      all; a project's members: theirs; any other answers 404), and req.user.role is their role on req.project.
//      GET needs "viewer", every other method "admin" by default (a viewer changes nothing);
//      pass { role: "owner" } for more, or call requireRole(req, role) inside a handler.
//   4. Layout: return renderPage(req, { title, body, showRange }) for a full page (Html is sent as
//      text/html with no-store and a CSP that allows only our own scripts: no inline <script>, no hx-on);
//      return an Html fragment for htmx requests (req.htmx); return a Response for CSV/SVG downloads.
//      Throw new DashboardError(404, "…") for a refusal page. Views escape by default: html`…${value}…`.
//   5. Range: req.range = { key, from, to, previousFrom, previousTo, fromDate, toDate, days, timezone, filters }
//      (ms, `to` exclusive, days in the project's timezone). req.href("/links", { sort: "revenue" }) keeps
//      the range and filters in a link.
//   6. CSRF: every non-GET is checked by the router. Forms add ${csrfField(req)}; htmx requests send the
//      X-CSRF-Token header from <body hx-headers:inherited> automatically. A stale token or expired session
//      redirects to /login?next=<the page>&reason=expired. Forms: validate on the server, answer 422 with
//      the form re-rendered and field({ error }) next to each field (views/components.ts), 303 on success.
//   7. Tests: src/dashboard/test-client.ts signs a user in through the real /login form
//      (userWithRole(server, "viewer"), signIn(server, email, password)) and posts forms with the CSRF field.
//   Unknown paths under a project answer an HTML 404 in the layout (fillGaps, registered last).
import { Elysia } from "elysia";
import type { AppContext } from "../context.ts";
import { dashboardAssets } from "./assets.ts";
import { accountRoutes } from "./accounts.ts";
import { installPages } from "./install.ts";
import { settingsPages } from "./settings.ts";
import { integrationsSource } from "./integrations.ts";
import { DashboardRouter, fillGaps } from "./routing.ts";
import { dataPages } from "./pages/index.ts";

/** A module of dashboard pages: registers its routes on the router. */
export type DashboardPage = (router: DashboardRouter) => unknown;

const shellPages: DashboardPage[] = [installPages, settingsPages(integrationsSource)];

/** The signed-in routes, every page registered; and the public ones (setup, login) beside them. */
export function dashboardRoutes(ctx: AppContext) {
  const router = new DashboardRouter(ctx);
  const publicRoutes = accountRoutes(ctx, router);
  for (const page of [...shellPages, ...dataPages]) page(router);
  fillGaps(router);
  return { router, publicRoutes };
}

export function dashboard(ctx: AppContext) {
  const { router, publicRoutes } = dashboardRoutes(ctx);
  return new Elysia().use(dashboardAssets()).use(publicRoutes).use(router.app);
}

export { DashboardError, DashboardRouter, csrfField, redirectTo, renderPage, requireRole, pageResponse, formString, canWrite } from "./routing.ts";
export type { DashboardRequest, SignedInRequest, Handler, RouteOptions } from "./routing.ts";
export { html, raw, Html, htmlResponse } from "./html.ts";
export { parseRange, rangeQuery, FILTER_KEYS, type DateRange, type Filters } from "./range.ts";
