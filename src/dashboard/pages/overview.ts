// The overview: visitors, clicks, signups, customers, conversion and net revenue for the period with
// their change against the previous period, charts over time, and the top sources, campaigns,
// referrers and countries with what each brought in.
import { html } from "../html.ts";
import { DashboardError, renderPage, type DashboardRequest, type DashboardRouter } from "../routing.ts";
import { timeSeriesChart, formatCompact } from "../charts.ts";
import { bucketize, bucketsFor } from "./time.ts";
import { previous as before, primeRollups, rollupQuery, trafficSeries, visitorSeries } from "./rollups.ts";
import { revenueChart, summaryOf, summaryTiles } from "./revenue.ts";
import { emptyStateOn, peopleNotice } from "./notices.ts";

import { attributionOn } from "../../reports/attribution.ts";
import { trafficOn } from "../../reports/traffic.ts";
import { chartCard, dataPage, statTiles } from "../../../views/pages/parts.ts";
import { breakdownTable, type BreakdownRow } from "../../../views/pages/reports.ts";

const TOP = 8;

/** The overview's top tables: each loads as its own request once the page is shown, as Plausible's widgets do. */
const TOP_CARDS = {
  sources: { title: "Top sources", label: "Source", path: "/sources", attribution: "source", by: undefined },
  campaigns: { title: "Top campaigns", label: "Campaign", path: "/campaigns", attribution: "campaign", by: undefined },
  referrers: { title: "Top referrers", label: "Referrer", path: "/traffic", attribution: undefined, by: "referrer" },
  countries: { title: "Top countries", label: "Country", path: "/traffic", attribution: undefined, by: "country" },
} as const;
type TopCard = keyof typeof TOP_CARDS;

/** What the top tables break down by: attribution dimensions, and visit traits (what the warm-up counts ahead for a view filtered on a large value). */
export const TOP_TABLE_BREAKDOWNS = {
  attribution: Object.values(TOP_CARDS).flatMap((card) => (card.attribution ? [card.attribution] : [])),
  traffic: Object.values(TOP_CARDS).flatMap((card) => (card.by ? [{ kind: "visit" as const, dimension: card.by }] : [])),
};

const allLink = (req: DashboardRequest, name: TopCard) => {
  const { path, by } = TOP_CARDS[name];
  return html`<p class="hint"><a href="${req.href(path, by ? { by } : {})}">All ${name} →</a></p>`;
};

/** On PostgreSQL, what the tiles, charts and notice read is primed first (rollups.ts); then the same render as on SQLite. */
async function overview(req: DashboardRequest) {
  const range = req.range;
  const q = rollupQuery(req);
  await Promise.all([primeRollups(q), primeRollups(before(q, req), { series: false })]);
  const totals = summaryOf(q);
  const buckets = bucketsFor(range, range.timezone);
  const visitors = { label: "Visitors", points: visitorSeries(q, buckets) };
  const hourly = trafficSeries(q);
  const chart = (title: string, lines: (typeof visitors)[]) =>
    chartCard(
      title,
      timeSeriesChart({ title, series: lines, bucketMs: buckets.bucketMs, timeZone: range.timezone, area: true, formatValue: formatCompact }),
      lines.map((l) => l.label),
    );
  // A top table counts its own breakdown: over a year filtered on one value that is a few hundred
  // milliseconds each, so the tiles and charts show first and the tables follow.
  const placeholder = (name: TopCard) =>
    html`<section class="card top-card" aria-busy="true" hx-get="${req.href(`/overview/${name}`)}" hx-trigger="load" hx-swap="outerHTML">
      <h2>${TOP_CARDS[name].title}</h2><p class="muted">Counting…</p>${allLink(req, name)}
    </section>`;
  return dataPage(
    statTiles(summaryTiles(totals, summaryOf(before(q, req)))),
    peopleNotice(req),
    html`<div class="charts">
      ${chart("Visitors and clicks", [visitors, { label: "Clicks", points: bucketize(hourly, buckets, (r) => r.clicks) }])}
      ${chart("Signups", [{ label: "Signups", points: bucketize(hourly, buckets, (r) => r.signups) }])}
      ${revenueChart(q, buckets, req.href("/settings/rates"))}
    </div>
    <div class="charts">${(Object.keys(TOP_CARDS) as TopCard[]).map(placeholder)}</div>`,
  );
}

/** One top table of the overview, as the fragment its placeholder swaps in. */
async function topCard(req: DashboardRequest, name: TopCard) {
  const range = req.range;
  const q = rollupQuery(req);
  const { db, now } = q;
  const scope = { from: range.from, to: range.to, filter: range.filters };
  const { title, label, path, attribution, by } = TOP_CARDS[name];
  const [empty] = await Promise.all([emptyStateOn(req, "Nothing in this period."), primeRollups(q, { series: false })]);
  const table = <Row extends BreakdownRow>(rows: Row[], href: (row: Row) => string | null) =>
    breakdownTable({
      caption: `${title} by visitors`,
      label,
      rows,
      totals: summaryOf(q),
      href,
      show: { compact: true },
      noneLabel: by ? "(unknown)" : undefined,
      limit: TOP,
      empty,
    });
  const body = attribution
    ? table(
        (await attributionOn(db, req.project, { groupBy: attribution, ...scope }, now)).sort((a, b) => b.visitors - a.visitors || b.net - a.net),
        (row) => (row.key ? req.href(`${path}/${encodeURIComponent(row.key)}`) : null),
      )
    : table(await trafficOn(db, req.project, { groupBy: by, ...scope }, now), () => null);
  return html`<section class="card top-card"><h2>${title}</h2>${body}${allLink(req, name)}</section>`;
}

export function overviewPage(router: DashboardRouter): void {
  router
    .get("", async (req) => renderPage(req, { title: "Overview", showRange: true, body: await overview(req) }))
    .get("/overview/:card", (req) => {
      const name = req.params.card ?? "";
      if (!Object.hasOwn(TOP_CARDS, name)) throw new DashboardError(404, "The overview has no such table.");
      return topCard(req, name as TopCard);
    });
}
