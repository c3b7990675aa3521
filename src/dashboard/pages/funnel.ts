// The funnel over the core events, link_clicked → payment_completed: people who reached each step after
// the previous tracked one, narrowed by a link, campaign and source picked from lists.
import { emptyStateOn } from "./notices.ts";
import { html, raw } from "../html.ts";
import { renderPage, type DashboardRequest, type DashboardRouter } from "../routing.ts";
import { rangeQuery } from "../range.ts";
import { barChart, formatCompact } from "../charts.ts";
import { FUNNEL_FILTERS, funnelOn } from "../../reports/summary.ts";
import { reportDb } from "../../reports/source.ts";
import type { Storage } from "../../db/storage/storage.ts";
import type { FunnelStep, FunnelStepName } from "../../reports/people/index.ts";

import { dataPage, dataTable, formatCount, percent } from "../../../views/pages/parts.ts";

const STEP_LABELS: Record<FunnelStepName, string> = {
  link_clicked: "Clicked a link",
  page_view: "Visited the site",
  pricing_view: "Viewed pricing",
  signup_started: "Started signup",
  signup_completed: "Signed up",
  payment_completed: "Paid",
};

export function funnelSteps(req: DashboardRequest): Promise<FunnelStep[]> {
  const filter = Object.fromEntries(FUNNEL_FILTERS.flatMap((dimension) => (req.range.filters[dimension] ? [[dimension, req.range.filters[dimension]]] : [])));
  return funnelOn(reportDb(req.ctx), req.project, { from: req.range.from, to: req.range.to, filter }, req.ctx.now());
}

interface Choice {
  value: string;
  label: string;
}

// The same texts on both engines.
const PICKED_VALUES = (column: string) => `SELECT DISTINCT ${column} AS value FROM links WHERE project_id = ? AND ${column} IS NOT NULL
   UNION SELECT DISTINCT ${column} FROM context_stats_periods WHERE project_id = ? AND grain = 'month' AND ${column} <> '' ORDER BY 1 LIMIT 500`;
const PICKED_LINKS = "SELECT id AS value, coalesce(nullif(title, ''), slug) AS label FROM links WHERE project_id = ? ORDER BY archived, label LIMIT 500";

/** What the pickers offer: the project's links by title, and the campaigns and sources it has seen. */
async function choices(storage: Storage, projectId: string): Promise<Record<"link" | "campaign" | "source", Choice[]>> {
  const values = async (column: string) => (await storage.all<{ value: string }>(PICKED_VALUES(column), [projectId, projectId])).map((r) => ({ value: r.value, label: r.value }));
  const [link, campaign, source] = await Promise.all([storage.all<Choice>(PICKED_LINKS, [projectId]), values("campaign_id"), values("source")]);
  return { link, campaign, source };
}

function picker(label: string, name: "link" | "campaign" | "source", options: Choice[], current: string | undefined) {
  const known = options.some((o) => o.value === current);
  return html`<div class="field"><label for="funnel-${name}">${label}</label>
    <select id="funnel-${name}" name="${name}">
      <option value="">All</option>
      ${current && !known ? html`<option value="${current}" selected>${current}</option>` : null}
      ${options.map((o) => html`<option value="${o.value}" ${o.value === current ? html`selected` : null}>${o.label}</option>`)}
    </select></div>`;
}

async function funnel(req: DashboardRequest) {
  const [steps, options] = await Promise.all([funnelSteps(req), choices(req.ctx.storage, req.project.id)]);
  const filters = req.range.filters;
  const keep = [...rangeQuery({ ...req.range, filters: {} })];
  const tracked = steps.filter((s) => s.tracked);
  const empty = tracked.length === 0 ? await emptyStateOn(req, "Nothing in this period.") : null;
  const fraction = (value: number | null) => (value === null ? "—" : percent(value, 1));
  return html`<form method="get" action="${req.url.pathname}" class="toolbar card" aria-label="Funnel filters">
      ${keep.map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
      ${picker("Link", "link", options.link, filters.link)}
      ${picker("Campaign", "campaign", options.campaign, filters.campaign)}
      ${picker("Source", "source", options.source, filters.source)}
      <button type="submit">Apply</button>
    </form>
    <section class="card">
      <h2>From click to payment</h2>
      ${
        tracked.length === 0
          ? html`<p class="empty">${empty}</p>`
          : raw(
              barChart({
                title: "Funnel: how many people reached each step",
                bars: tracked.map((s) => ({
                  label: STEP_LABELS[s.name],
                  value: s.people ?? 0,
                  note: `${formatCompact(s.people ?? 0)}${s.conversionFromPrevious === null ? "" : ` · ${fraction(s.conversionFromPrevious)}`}`,
                })),
              }),
            )
      }
    </section>
    ${dataTable({
      caption: "Funnel steps with conversion",
      rows: steps,
      empty: "",
      columns: [
        { key: "key", label: "Step", cell: (s) => html`${STEP_LABELS[s.name]} <code class="hide-phone">${s.name}</code>` },
        { key: "people", label: "People", numeric: true, cell: (s) => (s.tracked ? formatCount(s.people ?? 0) : html`<span class="muted">not tracked</span>`) },
        { key: "step", label: "Of previous", numeric: true, cell: (s) => fraction(s.conversionFromPrevious) },
        { key: "overall", label: "Of first", numeric: true, hideOnPhone: true, cell: (s) => fraction(s.conversionFromFirst) },
      ],
    })}
    <p class="hint">People who reached each step after reaching the previous tracked one in the period. A step your site never sends is shown as not tracked and skipped,
    so the next step is measured from the last tracked one. "Paid" counts people with a sale credited to the filtered link, campaign or source.</p>`;
}

export function funnelPage(router: DashboardRouter): void {
  router.get("/funnel", async (req) => renderPage(req, { title: "Funnel", showRange: true, body: dataPage(await funnel(req)) }));
}
