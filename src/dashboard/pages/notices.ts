// What a data page says around its numbers: how visitors are counted when cookieless ones appear, and
// what to do next when there is nothing to show yet.
import { html, type Html } from "../html.ts";
import type { DashboardRequest } from "../routing.ts";
import { peopleOf, rollupQuery } from "./rollups.ts";
import { foldWarmer } from "./warmup.ts";

/** How visitors are counted, said wherever they are shown; cookieless visitors in the period are named (SPEC §10). */
export function peopleNotice(req: DashboardRequest): Html {
  const cookieless = peopleOf(rollupQuery(req)).windows.some((w) => w.cookieless);
  const warming = foldWarmer(req.ctx)?.progress;
  return html`<p class="hint people-notice">People are counted once over the period, whatever the links and days they came through; a profile's devices are one person.${
    cookieless ? html` Visitors tracked without <code>data-persist</code> get a new id each day, so one who comes back on another day counts again.` : null
  }${
    warming
      ? html` <strong>Counting people from the stored events since the start: ${warming.done} of ${warming.total} days read.</strong> Until then a page reads the days it needs itself, more slowly.`
      : null
  }</p>`;
}

/** An empty table's message: the next step when the project has no events or no payments yet, else `otherwise`. */
export function emptyState(req: DashboardRequest, otherwise: string): Html {
  const { db } = req.ctx;
  const base = `/dashboard/${req.project.id}`;
  if (!db.query("SELECT 1 FROM events WHERE project_id = ? LIMIT 1").get(req.project.id)) {
    return html`No events yet. <a href="${base}/install">Put the snippet on your site</a>; the install page turns green when the first event arrives.`;
  }
  if (!db.query("SELECT 1 FROM payments WHERE project_id = ? LIMIT 1").get(req.project.id)) {
    return html`${otherwise} No payments yet: <a href="${base}/settings/integrations">connect your payment provider</a> to see revenue by channel.`;
  }
  return html`${otherwise}`;
}
