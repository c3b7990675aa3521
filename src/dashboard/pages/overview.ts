// The overview: visitors, clicks, signups, customers, conversion and net revenue for the period with
// their change against the previous period, charts over time, and the top sources, campaigns,
// referrers and countries with what each brought in.
import { html } from "../html.ts";
import { renderPage, type DashboardRequest, type DashboardRouter } from "../routing.ts";
import { timeSeriesChart, formatCompact } from "../charts.ts";
import { bucketize, bucketsFor } from "./time.ts";
import { previous as before, rollupQuery, trafficSeries, visitorSeries } from "./rollups.ts";
import { revenueChart, summaryOf, summaryTiles } from "./revenue.ts";
import { emptyState, peopleNotice } from "./notices.ts";
import { attributionReport } from "../../reports/attribution.ts";
import { trafficReport, type TrafficGroupBy } from "../../reports/traffic.ts";
import { chartCard, dataPage, statTiles } from "../../../views/pages/parts.ts";
import { breakdownTable, type BreakdownRow } from "../../../views/pages/reports.ts";

const TOP = 8;

function overview(req: DashboardRequest) {
  const range = req.range;
  const q = rollupQuery(req);
  const { db } = req.ctx;
  const now = req.ctx.now();
  const scope = { from: range.from, to: range.to, filter: range.filters };
  const totals = summaryOf(q);
  const empty = emptyState(req, "Nothing in this period.");
  const buckets = bucketsFor(range, range.timezone);
  const visitors = { label: "Visitors", points: visitorSeries(q, buckets) };
  const hourly = trafficSeries(q);
  const chart = (title: string, lines: (typeof visitors)[]) =>
    chartCard(
      title,
      timeSeriesChart({ title, series: lines, bucketMs: buckets.bucketMs, timeZone: range.timezone, area: true, formatValue: formatCompact }),
      lines.map((l) => l.label),
    );
  const card = <Row extends BreakdownRow>(title: string, label: string, rows: Row[], href: (row: Row) => string | null, more: { path: string; by?: string }, plural: string) =>
    html`<section class="card"><h2>${title}</h2>${breakdownTable({
      caption: `${title} by visitors`,
      label,
      rows,
      totals,
      href,
      show: { compact: true },
      noneLabel: more.by ? "(unknown)" : undefined,
      limit: TOP,
      empty,
    })}<p class="hint"><a href="${req.href(more.path, more.by ? { by: more.by } : {})}">All ${plural} →</a></p></section>`;
  const byVisitors = <Row extends BreakdownRow>(rows: Row[]) => rows.sort((a, b) => b.visitors - a.visitors || b.net - a.net);
  const attribution = (groupBy: "source" | "campaign") => byVisitors(attributionReport(db, req.project, { groupBy, ...scope }, now));
  const traffic = (groupBy: TrafficGroupBy) => trafficReport(db, req.project, { groupBy, ...scope }, now);
  const drill = (path: string) => (row: { key: string | null }) => (row.key ? req.href(`${path}/${encodeURIComponent(row.key)}`) : null);
  return dataPage(
    statTiles(summaryTiles(totals, summaryOf(before(q, req)))),
    peopleNotice(req),
    html`<div class="charts">
      ${chart("Visitors and clicks", [visitors, { label: "Clicks", points: bucketize(hourly, buckets, (r) => r.clicks) }])}
      ${chart("Signups", [{ label: "Signups", points: bucketize(hourly, buckets, (r) => r.signups) }])}
      ${revenueChart(q, buckets, req.href("/settings/rates"))}
    </div>
    <div class="charts">
      ${card("Top sources", "Source", attribution("source"), drill("/sources"), { path: "/sources" }, "sources")}
      ${card("Top campaigns", "Campaign", attribution("campaign"), drill("/campaigns"), { path: "/campaigns" }, "campaigns")}
      ${card("Top referrers", "Referrer", traffic("referrer"), () => null, { path: "/traffic", by: "referrer" }, "referrers")}
      ${card("Top countries", "Country", traffic("country"), () => null, { path: "/traffic", by: "country" }, "countries")}
    </div>`,
  );
}

export function overviewPage(router: DashboardRouter): void {
  router.get("", (req) => renderPage(req, { title: "Overview", showRange: true, body: overview(req) }));
}
