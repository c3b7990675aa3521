// Pieces shared by the overview, the per-link page and the reports: the summary tiles (people counted
// distinct over the period), and the revenue chart in the reporting currency.
import { html, type Html, type HtmlValue } from "../html.ts";
import { timeSeriesChart } from "../charts.ts";
import { formatMinorUnits } from "../../payments/money.ts";
import { bucketize, type Buckets } from "./time.ts";
import { chartCard, convertedMoney, formatCount, notConverted, percent, type StatTile } from "../../../views/pages/parts.ts";
import { revenue, revenueSeries, type RollupQuery } from "./rollups.ts";
import { summaryReport, type Summary } from "../../reports/summary.ts";
import { formatMoney } from "../../payments/money.ts";

/** The tiles a data page opens with: people, clicks, customers and conversion, then payments and revenue, each against the previous period. */
/** A page's range and filters as the summary report reads them. */
export function summaryOf(q: RollupQuery): Summary {
  return summaryReport(
    q.db,
    { id: q.projectId, currency: q.currency, timezone: q.timeZone, countRenewals: q.countRenewals },
    { from: q.range.from, to: q.range.to, filter: q.filter },
    q.now,
  );
}

export function summaryTiles(current: Summary, previous: Summary, first: "visitors" | "clicks" = "visitors"): StatTile[] {
  const tile = (label: string, pick: (totals: Summary) => number, format: (n: number) => HtmlValue = formatCount): StatTile => ({
    label,
    value: format(pick(current)),
    current: pick(current),
    previous: pick(previous),
  });
  const visitors = tile("Visitors", (c) => c.visitors);
  const clicks = tile("Clicks", (c) => c.clicks);
  return [
    ...(first === "visitors" ? [visitors, clicks] : [clicks, visitors]),
    tile("Signups", (c) => c.signups),
    tile("Customers", (c) => c.customers),
    tile("Conversion", (c) => c.conversionRate, (rate) => percent(rate, 1)),
    tile("Net revenue", (c) => c.net, () => convertedMoney(current)),
  ];
}

/**
 * Net revenue over time in the reporting currency: the one revenue chart of every page. Beneath it,
 * the payments it leaves out for want of a rate, counted, and the original currencies one click away.
 */
export function revenueChart(q: RollupQuery, buckets: Buckets, ratesHref: string): Html {
  const totals = revenue(q, q.currency);
  const title = `Net revenue (${q.currency})`;
  const chart = timeSeriesChart({
    title,
    series: [{ label: "Net revenue", points: bucketize(revenueSeries(q), buckets, (r) => Number(formatMinorUnits(r.reportingNet, q.currency))) }],
    bucketMs: buckets.bucketMs,
    timeZone: q.timeZone,
    area: true,
    formatValue: compactMoney(q.currency),
  });
  const unconverted = totals.filter((t) => t.unconverted > 0).map((t) => ({ currency: t.currency, payments: t.unconverted }));
  return chartCard(
    title,
    chart,
    [],
    html`${unconverted.length ? html`<p class="notice warn" role="status">${notConverted(unconverted, ratesHref)}</p>` : null}${
      totals.length ? html`<details class="by-currency"><summary>In original currencies</summary><ul>${totals.map((t) => html`<li>${formatMoney(t.net, t.currency)} <small class="muted">net of ${formatCount(t.payments)} payment${t.payments === 1 ? "" : "s"}${t.unconverted ? html`, ${formatCount(t.unconverted)} not converted` : null}</small></li>`)}</ul></details>` : null
    }`,
  );
}

/** "$1.2K" on axes and tooltips; the tiles and tables show exact amounts. */
function compactMoney(currency: string): (major: number) => string {
  try {
    const format = new Intl.NumberFormat("en", { style: "currency", currency, notation: "compact", maximumFractionDigits: 1 });
    return (major) => format.format(major);
  } catch {
    return (major) => `${major.toFixed(0)} ${currency}`;
  }
}
