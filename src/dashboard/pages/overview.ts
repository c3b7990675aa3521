// The overview: visitors, clicks, signups, payments and net revenue for the period, their change
// against the previous period, charts over time and the top sources and campaigns.
import { html } from "../html.ts";
import { renderPage, type DashboardRequest, type DashboardRouter } from "../routing.ts";
import { timeSeriesChart, formatCompact } from "../charts.ts";
import { bucketize, bucketsFor } from "./time.ts";
import { previous as before, revenue as revenueOf, revenueSeries, rollupQuery, traffic, trafficByKey, trafficSeries } from "./rollups.ts";
import { revenueCharts, summaryTiles } from "./revenue.ts";
import { chartCard, contextValue, dataPage, dataTable, formatCount, statTiles } from "../../../views/pages/parts.ts";

function overview(req: DashboardRequest) {
  const range = req.range;
  const q = rollupQuery(req);
  const current = traffic(q);
  const previous = traffic(before(q, req));
  const hourly = trafficSeries(q);
  const currency = req.project.currency;
  const revenue = revenueOf(q, currency);
  const previousRevenue = revenueOf(before(q, req), currency);
  const buckets = bucketsFor(range, range.timezone);
  const series = (label: string, pick: (row: (typeof hourly)[number]) => number) => ({ label, points: bucketize(hourly, buckets, pick) });
  const chart = (title: string, lines: ReturnType<typeof series>[]) =>
    chartCard(
      title,
      timeSeriesChart({ title, series: lines, bucketMs: buckets.bucketMs, timeZone: range.timezone, area: true, formatValue: formatCompact }),
      lines.map((l) => l.label),
    );
  const top = (dimension: "source" | "campaign", label: string) => {
    const rows = trafficByKey(q, dimension)
      .sort((a, b) => b.visitors - a.visitors)
      .slice(0, 8);
    return html`<section class="card"><h2>Top ${label}s</h2>${dataTable({
      caption: `Top ${label}s by visitors`,
      rows,
      empty: "Nothing in this period.",
      columns: [
        { key: "key", label, cell: (r) => (r.key ? html`<a href="${req.href(`/${dimension}s/${encodeURIComponent(r.key)}`)}">${r.key}</a>` : contextValue(r.key)) },
        { key: "visitors", label: "Visitors", numeric: true, cell: (r) => formatCount(r.visitors) },
        { key: "clicks", label: "Clicks", numeric: true, cell: (r) => formatCount(r.clicks), hideOnPhone: true },
        { key: "signups", label: "Signups", numeric: true, cell: (r) => formatCount(r.signups) },
      ],
    })}</section>`;
  };
  return dataPage(
    statTiles(summaryTiles({ current, previous }, { current: revenue, previous: previousRevenue })),
    html`<p class="hint stats-hint">A visitor counts once a day for each link, campaign or source they came through. Net revenue is after tax, refunds and disputes, per currency.</p>
    <div class="charts">
      ${chart("Visitors and clicks", [series("Visitors", (r) => r.visitors), series("Clicks", (r) => r.clicks)])}
      ${chart("Signups", [series("Signups", (r) => r.signups)])}
      ${revenueCharts(revenueSeries(q), revenue, buckets, range.timezone)}
    </div>
    <div class="charts">${top("source", "source")}${top("campaign", "campaign")}</div>`,
  );
}

export function overviewPage(router: DashboardRouter): void {
  router.get("", (req) => renderPage(req, { title: "Overview", showRange: true, body: overview(req) }));
}
