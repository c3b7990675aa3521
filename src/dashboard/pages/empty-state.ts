// notices.ts's empty-table message on either engine, for the report pages: SQLite's stays the
// synchronous `emptyState`; on PostgreSQL the same two facts are read through the storage and the same
// message is written. (notices.ts is being moved onto the storage on another branch, with an
// `emptyStateOn` of this signature: once both are merged, this file gives way to it.)
import { html, type Html } from "../html.ts";
import type { DashboardRequest } from "../routing.ts";
import { emptyState } from "./notices.ts";

/** An empty table's message: the next step when the project has no events or no payments yet, else `otherwise`. */
export async function emptyStateOn(req: DashboardRequest, otherwise: string): Promise<Html> {
  const { storage } = req.ctx;
  if (storage.engine === "sqlite") return emptyState(req, otherwise);
  const base = `/dashboard/${req.project.id}`;
  const events = (await storage.get("SELECT 1 AS found FROM events WHERE project_id = ? LIMIT 1", [req.project.id])) !== null;
  if (!events) return html`No events yet. <a href="${base}/install">Put the snippet on your site</a>; the install page turns green when the first event arrives.`;
  const payments = (await storage.get("SELECT 1 AS found FROM payments WHERE project_id = ? LIMIT 1", [req.project.id])) !== null;
  if (!payments) return html`${otherwise} No payments yet: <a href="${base}/settings/integrations">connect your payment provider</a> to see revenue by channel.`;
  return html`${otherwise}`;
}
