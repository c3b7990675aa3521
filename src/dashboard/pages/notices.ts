// What a data page says around its numbers: how visitors are counted when cookieless ones appear, and
// what to do next when there is nothing to show yet. The `…On` versions read through the storage (and
// on PostgreSQL prime, then compute: src/reports/source.ts); the synchronous ones read SQLite's
// connection, for pages not on the storage yet.
import { html, type Html } from "../html.ts";
import type { DashboardRequest } from "../routing.ts";
import { peopleOf, rollupQuery } from "./rollups.ts";
import { foldWarmer } from "./warmup.ts";
import { peopleQuery } from "../../reports/people/index.ts";
import { primeReport } from "../../reports/prime.ts";
import { PostgresReports, reportDb } from "../../reports/source.ts";

function peopleNoticeOf(req: DashboardRequest, cookieless: boolean): Html {
  const warming = foldWarmer(req.ctx)?.progress;
  return html`<p class="hint people-notice">People are counted once over the period, whatever the links and days they came through; a profile's devices are one person.${
    cookieless ? html` Visitors tracked without <code>data-persist</code> get a new id each day, so one who comes back on another day counts again.` : null
  }${
    warming
      ? html` <strong>Counting people from the stored events since the start: ${warming.done} of ${warming.total} days read.</strong> Until then a page reads the days it needs itself, more slowly.`
      : null
  }</p>`;
}

/** How visitors are counted, said wherever they are shown; cookieless visitors in the period are named (SPEC §10). SQLite only. */
export function peopleNotice(req: DashboardRequest): Html {
  return peopleNoticeOf(req, peopleOf(rollupQuery(req)).windows.some((w) => w.cookieless));
}

/** `peopleNotice` on either engine: the same range and filters as the page's rollup query. */
export async function peopleNoticeOn(req: DashboardRequest): Promise<Html> {
  const db = reportDb(req.ctx);
  const { project, range } = req;
  const now = req.ctx.now();
  if (db instanceof PostgresReports) await primeReport(db, { projectId: project.id, from: range.from, to: range.to, timeZone: range.timezone, now });
  const people = peopleQuery({ db, projectId: project.id, from: range.from, to: range.to, timeZone: range.timezone, now, countRenewals: project.countRenewals, filter: range.filters, model: "last" });
  return peopleNoticeOf(req, people.windows.some((w) => w.cookieless));
}

function emptyStateOf(req: DashboardRequest, otherwise: string, has: { events: boolean; payments: boolean }): Html {
  const base = `/dashboard/${req.project.id}`;
  if (!has.events) {
    return html`No events yet. <a href="${base}/install">Put the snippet on your site</a>; the install page turns green when the first event arrives.`;
  }
  if (!has.payments) {
    return html`${otherwise} No payments yet: <a href="${base}/settings/integrations">connect your payment provider</a> to see revenue by channel.`;
  }
  return html`${otherwise}`;
}

/** An empty table's message: the next step when the project has no events or no payments yet, else `otherwise`. SQLite only. */
export function emptyState(req: DashboardRequest, otherwise: string): Html {
  const { db } = req.ctx;
  const events = !!db.query("SELECT 1 FROM events WHERE project_id = ? LIMIT 1").get(req.project.id);
  const payments = events && !!db.query("SELECT 1 FROM payments WHERE project_id = ? LIMIT 1").get(req.project.id);
  return emptyStateOf(req, otherwise, { events, payments });
}

/** `emptyState` on either engine. */
export async function emptyStateOn(req: DashboardRequest, otherwise: string): Promise<Html> {
  const { storage } = req.ctx;
  const events = (await storage.get("SELECT 1 AS found FROM events WHERE project_id = ? LIMIT 1", [req.project.id])) !== null;
  const payments = events && (await storage.get("SELECT 1 AS found FROM payments WHERE project_id = ? LIMIT 1", [req.project.id])) !== null;
  return emptyStateOf(req, otherwise, { events, payments });
}
