// Traffic: people, signups, customers and net revenue per page, entry page, referrer, country, device,
// browser or OS, narrowed by the URL's attribution filters.
import { html } from "../html.ts";
import { renderPage, type DashboardRequest, type DashboardRouter } from "../routing.ts";
import { summaryOn } from "../../reports/summary.ts";
import { TRAFFIC_GROUP_BY, trafficOn, type TrafficGroupBy, type TrafficReportRow } from "../../reports/traffic.ts";
import { reportDb } from "../../reports/source.ts";
import { emptyStateOn, peopleNotice } from "./notices.ts";

import { dataPage, readSort, sortRows } from "../../../views/pages/parts.ts";
import { breakdownColumns, breakdownTable } from "../../../views/pages/reports.ts";

const LABELS: Record<TrafficGroupBy, string> = {
  page: "Page",
  entryPage: "Entry page",
  referrer: "Referrer",
  country: "Country",
  device: "Device",
  browser: "Browser",
  os: "OS",
};

async function trafficPage(req: DashboardRequest) {
  const requested = req.query.get("by") ?? "page";
  const by: TrafficGroupBy = (TRAFFIC_GROUP_BY as readonly string[]).includes(requested) ? (requested as TrafficGroupBy) : "page";
  const now = req.ctx.now();
  const scope = { from: req.range.from, to: req.range.to, filter: req.range.filters };
  const db = reportDb(req.ctx);
  const rows = await trafficOn(db, req.project, { groupBy: by, ...scope }, now);
  const [totals, empty] = await Promise.all([summaryOn(db, req.project, scope, now), emptyStateOn(req, "No visits in this period.")]);
  const options = {
    caption: `Traffic by ${LABELS[by].toLowerCase()}`,
    label: LABELS[by],
    rows,
    totals,
    show: { pageviews: true },
    noneLabel: "(unknown)",
    empty,
  };
  const columns = breakdownColumns<TrafficReportRow>(options);
  const sort = readSort(req.query, columns, { key: "visitors", dir: "desc" });
  return html`<nav class="range" aria-label="Break traffic down by">${TRAFFIC_GROUP_BY.map(
      (key) => html`<a href="${req.href("/traffic", { by: key === "page" ? null : key, sort: null, dir: null })}" ${key === by ? html`aria-current="true"` : null}>${LABELS[key]}</a>`,
    )}</nav>
    ${peopleNotice(req)}
    ${breakdownTable({ ...options, rows: sortRows(rows, columns, sort), sort, sortHref: (key, dir) => req.href("/traffic", { by: by === "page" ? null : by, sort: key, dir }) })}
    <p class="hint">A row's signups and customers are its people who signed up or bought in the period; its net revenue is what those customers paid.</p>`;
}

export function trafficPages(router: DashboardRouter): void {
  router.get("/traffic", async (req) => renderPage(req, { title: "Traffic", showRange: true, body: dataPage(await trafficPage(req)) }));
}
