// What a data page says around its numbers: how visitors are counted when cookieless ones appear, and
// what to do next when there is nothing to show yet.
import { html, type Html } from "../html.ts";
import type { DashboardRequest } from "../routing.ts";
import { peopleOf, rollupQuery } from "./rollups.ts";
import { foldWarmer } from "./warmup.ts";

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

/** How visitors are counted, said wherever they are shown; cookieless visitors in the period are named (SPEC §10). On PostgreSQL, after the page's prime. */
export function peopleNotice(req: DashboardRequest): Html {
  return peopleNoticeOf(req, peopleOf(rollupQuery(req)).windows.some((w) => w.cookieless));
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

/** An empty table's message: the next step when the project has no events or no payments yet, else `otherwise`. */
export async function emptyStateOn(req: DashboardRequest, otherwise: string): Promise<Html> {
  const { storage } = req.ctx;
  const events = (await storage.get("SELECT 1 AS found FROM events WHERE project_id = ? LIMIT 1", [req.project.id])) !== null;
  const payments = events && (await storage.get("SELECT 1 AS found FROM payments WHERE project_id = ? LIMIT 1", [req.project.id])) !== null;
  return emptyStateOf(req, otherwise, { events, payments });
}
