// What a data page says around its numbers: how visitors are counted when cookieless ones appear, and
// what to do next when there is nothing to show yet.
import { html, type Html } from "../html.ts";
import type { DashboardRequest } from "../routing.ts";
import { peopleOf, rollupQuery } from "./rollups.ts";

/** Said wherever visitors are shown and the period holds cookieless visitors (SPEC §10). */
export function peopleNotice(req: DashboardRequest): Html | null {
  const cookieless = peopleOf(rollupQuery(req)).windows.some((w) => w.cookieless);
  return cookieless
    ? html`<p class="hint people-notice">Visitors are people counted once over the whole period. Visitors tracked without <code>data-persist</code> get a new id each day, so one who comes back on another day counts again.</p>`
    : null;
}

/** An empty table's message: the next step when the project has no events or no payments yet, else `otherwise`. */
export function emptyState(req: DashboardRequest, otherwise: string): Html {
  const { db } = req.ctx;
  const base = `/dashboard/${req.project.id}`;
  if (!db.query("SELECT 1 FROM events WHERE project_id = ? LIMIT 1").get(req.project.id)) {
    return html`No events yet. <a href="${base}/install">Put the snippet on your site</a>; the install page turns green when the first event arrives.`;
  }
  if (!db.query("SELECT 1 FROM payments WHERE project_id = ? LIMIT 1").get(req.project.id)) {
    return html`${otherwise} No payments yet: <a href="${base}/settings#integrations">connect Stripe or Polar</a> to see revenue by channel.`;
  }
  return html`${otherwise}`;
}
