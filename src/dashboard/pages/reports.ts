// Campaigns, sources, mediums, contents and leads: the attribution report as sortable tables, each row
// drilling down to its traffic over time, its links and its payments.
import { html } from "../html.ts";
import { renderPage, type DashboardRequest, type DashboardRouter } from "../routing.ts";
import type { AttributionModel } from "../../reports/attribution.ts";
import { formatCompact, timeSeriesChart } from "../charts.ts";
import { bucketize, bucketsFor } from "./time.ts";
import type { Dimension } from "./traffic.sql.ts";
import { previous as before, revenue as revenueOf, revenueByKey, revenueSeries, rollupQuery, traffic, trafficByKey, trafficSeries, type RollupQuery } from "./rollups.ts";
import { linksWithContext } from "./links.sql.ts";
import { paymentsWithContext } from "./payments.sql.ts";
import { revenueCharts, summaryTiles } from "./revenue.ts";
import { paymentLinks } from "./payments.ts";
import { shortUrl } from "../../links/api.ts";
import { chartCard, contextValue, dataPage, dataTable, formatCount, readSort, sortRows, statTiles } from "../../../views/pages/parts.ts";
import { modelSwitch, reportColumns, reportTable, type ReportRow } from "../../../views/pages/reports.ts";
import { paymentsTable } from "../../../views/pages/payments.ts";
import { copyInline } from "../../../views/components.ts";

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

/**
 * The attribution report: traffic and money per value, folded in memory. Two grouped rollup reads and a
 * hash join stay fast with thousands of links or leads, where a SQL join of the two groupings does not.
 */
export function reportRows(q: RollupQuery, dimension: Dimension, model: AttributionModel, reportingCurrency: string): ReportRow[] {
  const byKey = new Map<string, ReportRow>();
  const row = (key: string) => {
    let r = byKey.get(key);
    if (!r) byKey.set(key, (r = { key: key || null, clicks: 0, visitors: 0, signups: 0, payments: 0, money: [] }));
    return r;
  };
  for (const t of trafficByKey(q, dimension)) Object.assign(row(t.key), { clicks: t.clicks, visitors: t.visitors, signups: t.signups });
  for (const m of revenueByKey(q, dimension, model)) {
    const r = row(m.key);
    r.payments += m.payments;
    r.money.push({ currency: m.currency, revenue: m.revenue, refunds: m.refunds, net: m.net });
  }
  for (const r of byKey.values()) r.money.sort((a, b) => Number(b.currency === reportingCurrency) - Number(a.currency === reportingCurrency) || b.net - a.net);
  return [...byKey.values()].filter((r) => r.clicks || r.visitors || r.signups || r.money.length);
}

function reportPage(req: DashboardRequest, report: Report) {
  const model: AttributionModel = req.query.get("model") === "first" ? "first" : "last";
  const rows = reportRows(rollupQuery(req, { filter: {} }), report.dimension, model, req.project.currency);
  const drillHref = (key: string | null) => req.href(`${report.path}/${encodeURIComponent(key ?? NONE)}`, { sort: null, dir: null, model: null });
  const columns = reportColumns(report.label, drillHref);
  const sort = readSort(req.query, columns, { key: "net", dir: "desc" });
  return html`<div class="toolbar">${modelSwitch(model, (m) => req.href(report.path, { model: m === "last" ? null : m, sort: req.query.get("sort"), dir: req.query.get("dir") }))}</div>
    ${reportTable({
      label: report.label,
      rows: sortRows(rows, columns, sort),
      sort,
      sortHref: (key, dir) => req.href(report.path, { sort: key, dir, model: model === "last" ? null : model }),
      drillHref,
    })}`;
}

function drillDown(req: DashboardRequest, report: Report) {
  const raw = req.params.key ?? "";
  const value = raw === NONE ? "" : raw;
  const { db } = req.ctx;
  const pid = req.project.id;
  const range = req.range;
  const q = rollupQuery(req, { filter: { ...range.filters, [report.dimension]: value } });
  const current = traffic(q);
  const previous = traffic(before(q, req));
  const revenue = revenueOf(q, req.project.currency);
  const previousRevenue = revenueOf(before(q, req), req.project.currency);
  const hourly = trafficSeries(q);
  const buckets = bucketsFor(range, range.timezone);
  const lines = [
    { label: "Visitors", points: bucketize(hourly, buckets, (r) => r.visitors) },
    { label: "Clicks", points: bucketize(hourly, buckets, (r) => r.clicks) },
  ];
  const links = linksWithContext(db, pid, report.dimension, value);
  const payments = paymentsWithContext(db, pid, range, report.dimension, value, 50);
  return html`<p><a href="${req.href(report.path, { [report.dimension]: null })}">← All ${report.title.toLowerCase()}</a></p>
    ${statTiles(summaryTiles({ current, previous }, { current: revenue, previous: previousRevenue }))}
    <div class="charts">
      ${chartCard("Visitors and clicks", timeSeriesChart({ title: `Visitors and clicks for ${report.label.toLowerCase()} ${value || NONE}`, series: lines, bucketMs: buckets.bucketMs, timeZone: range.timezone, area: true, formatValue: formatCompact }), lines.map((l) => l.label))}
      ${revenueCharts(revenueSeries(q), revenue, buckets, range.timezone, 1)}
    </div>
    <section class="card"><h2>Links</h2>${dataTable({
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
    <section class="card"><h2>Payments</h2>${paymentsTable(payments, paymentLinks(req), "No payment was attributed to this in the period.")}</section>`;
}

export function reportPages(router: DashboardRouter): void {
  for (const report of REPORTS) {
    router
      .get(report.path, (req) => renderPage(req, { title: report.title, showRange: true, body: dataPage(reportPage(req, report)) }))
      .get(`${report.path}/:key`, (req) => {
        const key = req.params.key ?? "";
        return renderPage(req, { title: `${report.label}: ${key}`, showRange: true, body: dataPage(drillDown(req, report)) });
      });
  }
}
