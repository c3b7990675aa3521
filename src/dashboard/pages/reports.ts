// Campaigns, sources, mediums, contents and leads: the attribution report as sortable tables (people,
// customers, conversion, net revenue), each row drilling down to its traffic over time, links and payments.
import { html } from "../html.ts";
import { renderPage, type DashboardRequest, type DashboardRouter } from "../routing.ts";
import { attributionOn, type AttributionModel, type AttributionReportRow } from "../../reports/attribution.ts";
import { summaryOn } from "../../reports/summary.ts";
import { formatCompact, timeSeriesChart } from "../charts.ts";
import { bucketize, bucketsFor } from "./time.ts";
import type { Dimension } from "./traffic.sql.ts";
import { previous as before, primeRollups, rollupQuery, trafficSeries, visitorSeries } from "./rollups.ts";
import { emptyStateOn, peopleNotice } from "./notices.ts";

import { linksWithContext } from "./links.sql.ts";
import { paymentsWithContext } from "./payments.sql.ts";
import { revenueChart, summaryOf, summaryTiles } from "./revenue.ts";
import { loadPaymentLinks } from "./payments.ts";
import { shortUrl } from "../../links/api.ts";
import { chartCard, contextValue, dataPage, dataTable, formatCount, readSort, sortRows, statTiles } from "../../../views/pages/parts.ts";
import { breakdownColumns, breakdownTable, modelSwitch } from "../../../views/pages/reports.ts";
import { paymentsTable } from "../../../views/pages/payments.ts";
import { copyInline } from "../../../views/components.ts";
import { reportDb } from "../../reports/source.ts";

const REPORTS = [
  { path: "/campaigns", dimension: "campaign", title: "Campaigns", label: "Campaign" },
  { path: "/sources", dimension: "source", title: "Sources", label: "Source" },
  { path: "/mediums", dimension: "medium", title: "Mediums", label: "Medium" },
  { path: "/contents", dimension: "content", title: "Contents", label: "Content" },
  { path: "/leads", dimension: "lead", title: "Leads", label: "Lead" },
] as const satisfies readonly { path: string; dimension: Dimension; title: string; label: string }[];

type Report = (typeof REPORTS)[number];

/** The URL segment of a report row: the value itself, or "(none)" for traffic without one. */
const NONE = "(none)";

async function reportPage(req: DashboardRequest, report: Report) {
  const model: AttributionModel = req.query.get("model") === "first" ? "first" : "last";
  const project = req.project;
  const range = { from: req.range.from, to: req.range.to };
  const now = req.ctx.now();
  const db = reportDb(req.ctx);
  const rows = await attributionOn(db, project, { groupBy: report.dimension, ...range, model }, now);
  const [totals, empty] = await Promise.all([summaryOn(db, project, range, now), emptyStateOn(req, "No traffic and no payments in this period.")]);
  const drillHref = (key: string | null) => req.href(`${report.path}/${encodeURIComponent(key ?? NONE)}`, { sort: null, dir: null, model: null });
  const options = {
    caption: `Attribution report by ${report.label.toLowerCase()}`,
    label: report.label,
    rows,
    totals,
    href: (row: AttributionReportRow) => drillHref(row.key),
    show: { clicks: true, revenuePerVisitor: true },
    empty,
  };
  const sort = readSort(req.query, breakdownColumns(options), { key: "net", dir: "desc" });
  return html`<div class="toolbar">${modelSwitch(model, (m) => req.href(report.path, { model: m === "last" ? null : m, sort: req.query.get("sort"), dir: req.query.get("dir") }))}</div>
    ${peopleNotice(req)}
    ${breakdownTable({
      ...options,
      rows: sortRows(rows, breakdownColumns(options), sort),
      sort,
      sortHref: (key, dir) => req.href(report.path, { sort: key, dir, model: model === "last" ? null : model }),
    })}`;
}

/** The links and payments carrying the value. */
async function drillDownLists(req: DashboardRequest, report: Report, value: string) {
  const { storage } = req.ctx;
  const pid = req.project.id;
  const [links, payments] = await Promise.all([linksWithContext(storage, pid, report.dimension, value), paymentsWithContext(storage, pid, req.range, report.dimension, value, 50)]);
  const paymentLinks = await loadPaymentLinks(req, payments);
  return html`<section class="card"><h2>Links</h2>${dataTable({
      caption: `Links with this ${report.label.toLowerCase()}`,
      rows: links,
      empty: `No tracked link carries this ${report.label.toLowerCase()}.`,
      columns: [
        { key: "key", label: "Link", cell: (l) => html`<a href="${req.href(`/links/${encodeURIComponent(l.linkId)}`)}">${l.title || l.slug}</a>` },
        { key: "short", label: "Short URL", hideOnPhone: true, cell: (l) => copyInline(shortUrl(req.baseUrl, l.slug), `short URL of ${l.title || l.slug}`) },
        { key: "source", label: "Source", cell: (l) => contextValue(l.source) },
        { key: "clicks", label: "All-time clicks", numeric: true, cell: (l) => formatCount(l.clicks) },
      ],
    })}</section>
    <section class="card"><h2>Payments</h2>${paymentsTable(payments, paymentLinks, "No payment was attributed to this in the period.")}</section>`;
}

async function drillDown(req: DashboardRequest, report: Report) {
  const raw = req.params.key ?? "";
  const value = raw === NONE ? "" : raw;
  const range = req.range;
  const q = rollupQuery(req, { filter: { ...range.filters, [report.dimension]: value } });
  const [lists] = await Promise.all([drillDownLists(req, report, value), primeRollups(q), primeRollups(before(q, req), { series: false })]);
  const buckets = bucketsFor(range, range.timezone);
  const lines = [
    { label: "Visitors", points: visitorSeries(q, buckets) },
    { label: "Clicks", points: bucketize(trafficSeries(q), buckets, (r) => r.clicks) },
  ];
  return html`<p><a href="${req.href(report.path, { [report.dimension]: null })}">← All ${report.title.toLowerCase()}</a></p>
    ${statTiles(summaryTiles(summaryOf(q), summaryOf(before(q, req))))}
    <div class="charts">
      ${chartCard("Visitors and clicks", timeSeriesChart({ title: `Visitors and clicks for ${report.label.toLowerCase()} ${value || NONE}`, series: lines, bucketMs: buckets.bucketMs, timeZone: range.timezone, area: true, formatValue: formatCompact }), lines.map((l) => l.label))}
      ${revenueChart(q, buckets, req.href("/settings/rates"))}
    </div>
    ${lists}`;
}

export function reportPages(router: DashboardRouter): void {
  for (const report of REPORTS) {
    router
      .get(report.path, async (req) => renderPage(req, { title: report.title, showRange: true, body: dataPage(await reportPage(req, report)) }))
      .get(`${report.path}/:key`, async (req) => {
        const key = req.params.key ?? "";
        return renderPage(req, { title: `${report.label}: ${key}`, showRange: true, body: dataPage(await drillDown(req, report)) });
      });
  }
}
